"""Tracking objects as MLflow's JSON messages. Loaders fetch a page's children in a fixed
number of queries, whatever the page size."""

from collections import defaultdict

from experiments.models import (
    Experiment,
    ExperimentTag,
    LatestMetric,
    LoggedModel,
    LoggedModelParam,
    LoggedModelTag,
    Metric,
    Param,
    Run,
    RunInput,
    RunModelLink,
    RunTag,
)
from experiments.mlflow_api.protocol import wire_float


def metric_value(value: float, is_nan: bool):
    return "NaN" if is_nan else wire_float(value)


def metric_to_wire(key, value, is_nan, timestamp, step, model_id=None, run_id=None) -> dict:
    out = {"key": key, "value": metric_value(value, is_nan), "timestamp": timestamp, "step": step}
    if model_id:
        out["model_id"] = model_id
    if run_id:
        out["run_id"] = run_id
    return out


def _kv(rows) -> list[dict]:
    return [{"key": k, "value": v} for k, v in rows]


def experiments_to_wire(experiments: list[Experiment]) -> list[dict]:
    tags = defaultdict(list)
    for experiment_id, key, value in ExperimentTag.objects.filter(experiment__in=[e.pk for e in experiments]).values_list(
        "experiment_id", "key", "value"
    ):
        tags[experiment_id].append((key, value))
    return [experiment_to_wire(e, tags.get(e.pk, [])) for e in experiments]


def experiment_to_wire(experiment: Experiment, tags) -> dict:
    out = {
        "experiment_id": experiment.wire_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
    }
    if tags:
        out["tags"] = _kv(tags)
    return out


def run_info_to_wire(run: Run) -> dict:
    wire_exp = run.experiment.wire_id
    out = {
        "run_id": run.run_uuid,
        "run_uuid": run.run_uuid,
        "run_name": run.name,
        "experiment_id": wire_exp,
        "user_id": run.user_id,
        "status": run.status,
        "start_time": run.start_time,
        "artifact_uri": run.artifact_uri(wire_exp),
        "lifecycle_stage": run.lifecycle_stage,
    }
    if run.end_time is not None:
        out["end_time"] = run.end_time
    return out


def runs_to_wire(runs: list[Run]) -> list[dict]:
    """Whole runs (info, data, inputs, outputs) in five queries for any number of runs."""
    if not runs:
        return []
    ids = [r.pk for r in runs]
    metrics, params, tags = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in LatestMetric.objects.filter(run_id__in=ids).values_list(
        "run_id", "key", "value", "is_nan", "timestamp", "step", "model_id"
    ):
        metrics[row[0]].append(metric_to_wire(*row[1:]))
    for run_id, key, value in Param.objects.filter(run_id__in=ids).values_list("run_id", "key", "value"):
        params[run_id].append({"key": key, "value": value})
    for run_id, key, value in RunTag.objects.filter(run_id__in=ids).values_list("run_id", "key", "value"):
        tags[run_id].append({"key": key, "value": value})
    dataset_inputs = defaultdict(list)
    for run_input in RunInput.objects.filter(run_id__in=ids).select_related("dataset"):
        dataset = run_input.dataset
        wire_dataset = {"name": dataset.name, "digest": dataset.digest, "source_type": dataset.source_type, "source": dataset.source}
        if dataset.schema:
            wire_dataset["schema"] = dataset.schema
        if dataset.profile:
            wire_dataset["profile"] = dataset.profile
        dataset_inputs[run_input.run_id].append({"tags": run_input.tags, "dataset": wire_dataset})
    model_inputs, model_outputs = defaultdict(list), defaultdict(list)
    for run_id, direction, model_id, step in RunModelLink.objects.filter(run_id__in=ids).values_list(
        "run_id", "direction", "logged_model__model_id", "step"
    ):
        if direction == RunModelLink.Direction.INPUT:
            model_inputs[run_id].append({"model_id": model_id})
        else:
            model_outputs[run_id].append({"model_id": model_id, "step": step})
    out = []
    for run in runs:
        out.append(
            {
                "info": run_info_to_wire(run),
                "data": {"metrics": metrics[run.pk], "params": params[run.pk], "tags": tags[run.pk]},
                "inputs": {"dataset_inputs": dataset_inputs[run.pk], "model_inputs": model_inputs[run.pk]},
                "outputs": {"model_outputs": model_outputs[run.pk]},
            }
        )
    return out


def logged_models_to_wire(models: list[LoggedModel]) -> list[dict]:
    if not models:
        return []
    ids = [m.pk for m in models]
    tags, params, metrics = defaultdict(list), defaultdict(list), defaultdict(list)
    for model_id, key, value in LoggedModelTag.objects.filter(logged_model_id__in=ids).values_list("logged_model_id", "key", "value"):
        tags[model_id].append({"key": key, "value": value})
    for model_id, key, value in LoggedModelParam.objects.filter(logged_model_id__in=ids).values_list(
        "logged_model_id", "key", "value"
    ):
        params[model_id].append({"key": key, "value": value})
    by_wire_id = {m.model_id: m.pk for m in models}
    newest = {}
    for row in Metric.objects.filter(model_id__in=list(by_wire_id)).order_by("timestamp", "step", "id").values_list(
        "model_id", "key", "value", "is_nan", "timestamp", "step", "run__run_uuid"
    ):
        newest[(row[0], row[1])] = row  # the last point of each (model, key) wins
    for row in newest.values():
        metrics[by_wire_id[row[0]]].append(metric_to_wire(row[1], row[2], row[3], row[4], row[5], row[0], row[6]))
    return [logged_model_to_wire(m, tags[m.pk], params[m.pk], metrics[m.pk]) for m in models]


def logged_model_to_wire(model: LoggedModel, tags, params, metrics) -> dict:
    wire_exp = model.experiment.wire_id
    info = {
        "model_id": model.model_id,
        "experiment_id": wire_exp,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": model.artifact_location(wire_exp),
        "status": model.status,
        "tags": tags,
    }
    if model.created_by_id is not None:
        info["creator_id"] = model.created_by_id
    if model.model_type:
        info["model_type"] = model.model_type
    if model.source_run_id is not None:
        info["source_run_id"] = model.source_run.run_uuid
    if model.status_message:
        info["status_message"] = model.status_message
    return {"info": info, "data": {"params": params, "metrics": metrics}}
