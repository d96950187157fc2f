"""Writes for tracking objects: experiments, runs, datasets and logged models.

Callers pass objects already fetched and authorised by ``experiments.access``; every function
here is transactional and validates before it writes, so a rejected request changes nothing.
"""

import json
import time
import uuid

from django.db import IntegrityError, transaction

from accounts.services import grant_creator
from audit import actions
from audit.services import record
from audit.targets import changed, target_of
from experiments import ingest
from experiments.errors import already_exists, invalid, invalid_state, not_found
from experiments.models import (
    Dataset,
    Experiment,
    ExperimentTag,
    LifecycleStage,
    LoggedModel,
    LoggedModelParam,
    LoggedModelStatus,
    LoggedModelTag,
    Run,
    RunInput,
    RunModelLink,
    RunStatus,
    RunTag,
)
from experiments.naming import generate_run_name
from experiments.retention import refuse_if_purging
from experiments.validation import (
    MAX_RUN_NAME_LENGTH,
    validate_experiment_name,
    validate_param,
    validate_tag,
)
from notifications import events

DEFAULT_EXPERIMENT_NAME = "Default"
USER_TAG = "mlflow.user"
RUN_NAME_TAG = ingest.RUN_NAME_TAG
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"


def now_ms() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------- experiments


def default_experiment_ensure(*, workspace) -> Experiment:
    """Every workspace has a Default experiment, "0" on the wire."""
    existing = Experiment.objects.filter(workspace=workspace, is_default=True).first()
    if existing is not None:
        return existing
    stamp = now_ms()
    try:
        with transaction.atomic():
            return Experiment.objects.create(
                workspace=workspace, name=DEFAULT_EXPERIMENT_NAME, is_default=True, creation_time=stamp, last_update_time=stamp
            )
    except IntegrityError:
        return Experiment.objects.get(workspace=workspace, is_default=True)


def experiment_create(*, actor, workspace, name, tags=(), artifact_location=None) -> Experiment:
    name = validate_experiment_name(name)
    if artifact_location:
        raise invalid("Warden derives artifact locations; 'artifact_location' must be left empty.")
    tag_rows = [validate_tag(t.get("key"), t.get("value")) for t in _tag_dicts(tags)]
    stamp = now_ms()
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(
                workspace=workspace, name=name, created_by=actor, creation_time=stamp, last_update_time=stamp
            )
            ExperimentTag.objects.bulk_create([ExperimentTag(experiment=experiment, key=k, value=v) for k, v in dict(tag_rows).items()])
            grant_creator(obj=experiment, user=actor)  # the creator manages it: an explicit, revocable grant
            record(actions.EXPERIMENT_CREATED, actor=actor, **target_of(experiment), changes={"after": {"name": name}})
    except IntegrityError:
        raise already_exists(f"Experiment '{name}' already exists.")
    return experiment


def experiment_rename(*, actor, experiment: Experiment, new_name) -> Experiment:
    new_name = validate_experiment_name(new_name)
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise invalid_state("Cannot rename a non-active experiment.")
    if new_name == experiment.name:
        return experiment
    old_name = experiment.name
    try:
        with transaction.atomic():
            experiment.name = new_name
            experiment.last_update_time = now_ms()
            experiment.save(update_fields=["name", "last_update_time"])
            record(
                actions.EXPERIMENT_RENAMED, actor=actor, **target_of(experiment),
                changes=changed({"name": old_name}, {"name": new_name}),
            )
    except IntegrityError:
        experiment.name = old_name
        raise already_exists(f"Experiment '{new_name}' already exists.")
    return experiment


@transaction.atomic
def experiment_delete(*, actor, experiment: Experiment) -> Experiment:
    """Soft delete: the experiment and its active runs move to the deleted stage together."""
    if experiment.is_default:
        raise invalid("Cannot delete the Default experiment '0'.")
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        return experiment
    if Experiment.objects.select_for_update().filter(pk=experiment.pk, protected=True).exists():
        raise invalid_state(
            f"Experiment {experiment.wire_id} is protected and cannot be deleted. "
            "Someone with MANAGE must lift the protection first."
        )
    stamp = now_ms()
    experiment.lifecycle_stage = LifecycleStage.DELETED
    experiment.deleted_time = stamp
    experiment.last_update_time = stamp
    experiment.save(update_fields=["lifecycle_stage", "deleted_time", "last_update_time"])
    experiment.runs.filter(lifecycle_stage=LifecycleStage.ACTIVE).update(lifecycle_stage=LifecycleStage.DELETED, deleted_time=stamp)
    changes = _stage_change(LifecycleStage.ACTIVE, LifecycleStage.DELETED)
    record(actions.EXPERIMENT_DELETED, actor=actor, **target_of(experiment), changes=changes)
    events.experiment_deleted(actor=actor, experiment=experiment)
    return experiment


def _stage_change(before: str, after: str) -> dict:
    return {"before": {"lifecycle_stage": before}, "after": {"lifecycle_stage": after}}


@transaction.atomic
def experiment_restore(*, actor, experiment: Experiment) -> Experiment:
    """Restore the experiment and the runs that were deleted along with it."""
    if experiment.lifecycle_stage == LifecycleStage.ACTIVE:
        return experiment
    Experiment.objects.select_for_update().filter(pk=experiment.pk).first()  # the purge claims under this lock
    refuse_if_purging("experiment", experiment.pk, f"Experiment {experiment.wire_id}")
    deleted_time = experiment.deleted_time
    experiment.lifecycle_stage = LifecycleStage.ACTIVE
    experiment.deleted_time = None
    experiment.last_update_time = now_ms()
    experiment.save(update_fields=["lifecycle_stage", "deleted_time", "last_update_time"])
    if deleted_time is not None:
        experiment.runs.filter(lifecycle_stage=LifecycleStage.DELETED, deleted_time=deleted_time).update(
            lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None
        )
    changes = _stage_change(LifecycleStage.DELETED, LifecycleStage.ACTIVE)
    record(actions.EXPERIMENT_RESTORED, actor=actor, **target_of(experiment), changes=changes)
    return experiment


@transaction.atomic
def experiment_set_tag(*, actor, experiment: Experiment, key, value):
    key, value = validate_tag(key, value)
    _require_active_experiment(experiment)
    ExperimentTag.objects.update_or_create(experiment=experiment, key=key, defaults={"value": value})
    Experiment.objects.filter(pk=experiment.pk).update(last_update_time=now_ms())


@transaction.atomic
def experiment_delete_tag(*, actor, experiment: Experiment, key):
    _require_active_experiment(experiment)
    deleted, _ = ExperimentTag.objects.filter(experiment=experiment, key=key).delete()
    if not deleted:
        raise not_found(f"No tag with name: {key} in experiment with id {experiment.wire_id}")
    Experiment.objects.filter(pk=experiment.pk).update(last_update_time=now_ms())


def _require_active_experiment(experiment: Experiment):
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise invalid(
            f"The experiment {experiment.wire_id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}."
        )


def _tag_dicts(tags) -> list[dict]:
    tags = tags or []
    if not isinstance(tags, list) or any(not isinstance(t, dict) for t in tags):
        raise invalid("Invalid value for parameter 'tags': must be a list of {key, value} objects.")
    return tags


# ---------------------------------------------------------------- runs


def run_create(*, actor, experiment: Experiment, run_name=None, start_time=None, tags=()) -> Run:
    """Create a run; the authenticated principal is stamped as its user, whatever the client says."""
    _require_active_experiment(experiment)
    tag_rows = dict(validate_tag(t.get("key"), t.get("value")) for t in _tag_dicts(tags))
    run_name = run_name or tag_rows.get(RUN_NAME_TAG) or generate_run_name()
    if len(run_name) > MAX_RUN_NAME_LENGTH:
        raise invalid(f"Run name exceeds the maximum length of {MAX_RUN_NAME_LENGTH}.")
    tag_rows[RUN_NAME_TAG] = run_name
    tag_rows[USER_TAG] = actor.get_username()
    with transaction.atomic():
        run = Run.objects.create(
            run_uuid=uuid.uuid4().hex,
            experiment=experiment,
            name=run_name,
            user_id=actor.get_username(),
            created_by=actor,
            status=RunStatus.RUNNING,
            start_time=start_time if start_time is not None else now_ms(),
        )
        RunTag.objects.bulk_create([RunTag(run=run, key=k, value=v) for k, v in tag_rows.items()])
        record(actions.RUN_CREATED, actor=actor, **target_of(run), changes={"after": {"name": run_name, "experiment": experiment.wire_id}})
    run.experiment = experiment
    return run


def require_active_run(run: Run):
    if run.lifecycle_stage != LifecycleStage.ACTIVE:
        raise invalid(f"The run {run.run_uuid} must be in the 'active' state. Current state is {run.lifecycle_stage}.")


@transaction.atomic
def run_update(*, actor, run: Run, status=None, end_time=None, run_name=None) -> Run:
    require_active_run(run)
    fields = []
    before_status = run.status
    if status is not None:
        if status not in RunStatus.values:
            raise invalid(f"Invalid run status '{status}'.")
        run.status = status
        fields.append("status")
    if end_time is not None:
        run.end_time = end_time
        fields.append("end_time")
    if run_name:
        if len(run_name) > MAX_RUN_NAME_LENGTH:
            raise invalid(f"Run name exceeds the maximum length of {MAX_RUN_NAME_LENGTH}.")
        run.name = run_name
        fields.append("name")
        RunTag.objects.update_or_create(run=run, key=RUN_NAME_TAG, defaults={"value": run_name})
    if fields:
        run.save(update_fields=fields)
    if run.status in _RUN_ENDINGS and run.status != before_status:
        record(_RUN_ENDINGS[run.status], actor=actor, **target_of(run), changes=changed({"status": before_status}, {"status": run.status}))
    events.run_updated(actor=actor, run=run, fields=fields)
    return run


# Only a run's ending is audited; intermediate updates (its name, RUNNING again) are tracking data.
_RUN_ENDINGS = {RunStatus.FINISHED: actions.RUN_FINISHED, RunStatus.FAILED: actions.RUN_FAILED, RunStatus.KILLED: actions.RUN_KILLED}


@transaction.atomic
def run_delete(*, actor, run: Run) -> Run:
    if run.lifecycle_stage != LifecycleStage.DELETED:
        run.lifecycle_stage = LifecycleStage.DELETED
        run.deleted_time = now_ms()
        run.save(update_fields=["lifecycle_stage", "deleted_time"])
        record(actions.RUN_DELETED, actor=actor, **target_of(run), changes=_stage_change(LifecycleStage.ACTIVE, LifecycleStage.DELETED))
    return run


@transaction.atomic
def run_restore(*, actor, run: Run) -> Run:
    if run.experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise invalid_state("Cannot restore a run of a deleted experiment; restore the experiment first.")
    if run.lifecycle_stage != LifecycleStage.ACTIVE:
        Run.objects.select_for_update().filter(pk=run.pk).first()  # the purge claims under this lock
        refuse_if_purging("run", run.pk, f"Run {run.run_uuid}")
        run.lifecycle_stage = LifecycleStage.ACTIVE
        run.deleted_time = None
        run.save(update_fields=["lifecycle_stage", "deleted_time"])
        record(actions.RUN_RESTORED, actor=actor, **target_of(run), changes=_stage_change(LifecycleStage.DELETED, LifecycleStage.ACTIVE))
    return run


def _stamp_user(run: Run, tags: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The run's user is whoever created it; a client cannot re-tag it as someone else."""
    return [(k, run.user_id if k == USER_TAG else v) for k, v in tags]


def run_set_tag(*, actor, run: Run, key, value):
    require_active_run(run)
    key, value = validate_tag(key, value)
    ingest.write_batch(run=run, metrics=[], params=[], tags=_stamp_user(run, [(key, value)]))


@transaction.atomic
def run_delete_tag(*, actor, run: Run, key):
    require_active_run(run)
    deleted, _ = RunTag.objects.filter(run=run, key=key).delete()
    if not deleted:
        raise not_found(f"No tag with name: {key} in run with id {run.run_uuid}")


def run_log_param(*, actor, run: Run, key, value):
    require_active_run(run)
    ingest.write_batch(run=run, metrics=[], params=[validate_param(key, value)], tags=[])


def run_log_batch(*, actor, run: Run, metrics: list[dict], params: list[dict], tags: list[dict]):
    """The hot path: validation in one pass, then ``ingest.write_batch`` (two statements for metrics)."""
    from experiments.validation import validate_batch_sizes

    validate_batch_sizes(metrics, params, tags)
    require_active_run(run)
    points = [ingest.parse_metric(m) for m in metrics]
    param_rows = [validate_param(p.get("key"), p.get("value")) for p in _tag_dicts(params)]
    tag_rows = _stamp_user(run, [validate_tag(t.get("key"), t.get("value")) for t in _tag_dicts(tags)])
    ingest.write_batch(run=run, metrics=points, params=param_rows, tags=tag_rows)


def run_log_model_history(*, actor, run: Run, model_json):
    """The classic runs/log-model call: append the model's JSON to the run's model history tag."""
    require_active_run(run)
    if not isinstance(model_json, str):
        raise invalid("Missing value for required parameter 'model_json'.")
    try:
        model = json.loads(model_json)
    except ValueError:
        raise invalid("Malformed value for parameter 'model_json': must be JSON.")
    with transaction.atomic():
        tag = RunTag.objects.select_for_update().filter(run=run, key=LOG_MODEL_HISTORY_TAG).first()
        history = json.loads(tag.value) if tag else []
        history.append(model)
        value = json.dumps(history)
        validate_tag(LOG_MODEL_HISTORY_TAG, value)
        RunTag.objects.update_or_create(run=run, key=LOG_MODEL_HISTORY_TAG, defaults={"value": value})


def run_log_inputs(*, actor, run: Run, datasets: list[dict], models: list[dict], logged_models_by_id: dict):
    """Record dataset inputs (deduplicated per experiment by name and digest) and model inputs."""
    require_active_run(run)
    parsed = [_parse_dataset_input(item) for item in datasets]
    with transaction.atomic():
        for fields, input_tags in parsed:
            dataset, _ = Dataset.objects.get_or_create(
                experiment_id=run.experiment_id, name=fields["name"], digest=fields["digest"], defaults=fields
            )
            RunInput.objects.update_or_create(run=run, dataset=dataset, defaults={"tags": input_tags})
        for item in models:
            model = logged_models_by_id[item["model_id"]]
            RunModelLink.objects.get_or_create(run=run, logged_model=model, direction=RunModelLink.Direction.INPUT)


def _parse_dataset_input(item: dict):
    dataset = item.get("dataset")
    if not isinstance(dataset, dict):
        raise invalid("Every dataset input needs a 'dataset' object.")
    fields = {}
    for name, limit in (("name", 500), ("digest", 36), ("source_type", 36), ("source", 65535)):
        value = dataset.get(name)
        if not isinstance(value, str) or not value:
            raise invalid(f"Missing value for required parameter 'dataset.{name}'.")
        if len(value) > limit:
            raise invalid(f"Dataset {name} exceeds the maximum length of {limit}.")
        fields[name] = value
    for name in ("schema", "profile"):
        value = dataset.get(name) or ""
        if not isinstance(value, str):
            raise invalid(f"Invalid value for parameter 'dataset.{name}': must be a string.")
        fields[name] = value
    input_tags = [{"key": k, "value": v} for k, v in (validate_tag(t.get("key"), t.get("value")) for t in _tag_dicts(item.get("tags")))]
    return fields, input_tags


@transaction.atomic
def run_log_outputs(*, actor, run: Run, models: list[tuple[LoggedModel, int]]):
    require_active_run(run)
    for model, step in models:
        RunModelLink.objects.update_or_create(
            run=run, logged_model=model, direction=RunModelLink.Direction.OUTPUT, defaults={"step": step}
        )


# ---------------------------------------------------------------- logged models


def logged_model_create(
    *, actor, experiment: Experiment, name=None, model_type="", source_run: Run | None = None, params=(), tags=()
) -> LoggedModel:
    _require_active_experiment(experiment)
    if source_run is not None and source_run.experiment_id != experiment.pk:
        raise invalid("The source run must belong to the logged model's experiment.")
    name = name or generate_run_name()
    if not isinstance(name, str) or len(name) > 500:
        raise invalid("Invalid logged model name.")
    if model_type and (not isinstance(model_type, str) or len(model_type) > 500):
        raise invalid("Invalid logged model type.")
    param_rows = dict(validate_param(p.get("key"), p.get("value")) for p in _tag_dicts(params))
    tag_rows = dict(validate_tag(t.get("key"), t.get("value")) for t in _tag_dicts(tags))
    stamp = now_ms()
    with transaction.atomic():
        model = LoggedModel.objects.create(
            model_id=f"m-{uuid.uuid4().hex}",
            experiment=experiment,
            name=name,
            source_run=source_run,
            model_type=model_type or "",
            created_by=actor,
            creation_timestamp=stamp,
            last_updated_timestamp=stamp,
        )
        LoggedModelParam.objects.bulk_create([LoggedModelParam(logged_model=model, key=k, value=v) for k, v in param_rows.items()])
        LoggedModelTag.objects.bulk_create([LoggedModelTag(logged_model=model, key=k, value=v) for k, v in tag_rows.items()])
        record(
            actions.LOGGED_MODEL_CREATED, actor=actor, **target_of(model),
            changes={"after": {"name": name, "experiment": experiment.wire_id, "source_run": source_run.run_uuid if source_run else None}},
        )
    model.experiment = experiment
    return model


def _require_active_model(model: LoggedModel):
    if model.lifecycle_stage != LifecycleStage.ACTIVE:
        raise not_found(f"Logged model with ID '{model.model_id}' not found.")


@transaction.atomic
def logged_model_finalize(*, actor, model: LoggedModel, status) -> LoggedModel:
    _require_active_model(model)
    if status not in (LoggedModelStatus.READY, LoggedModelStatus.UPLOAD_FAILED):
        raise invalid(f"Invalid status '{status}': must be LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.")
    before = model.status
    model.status = status
    model.last_updated_timestamp = now_ms()
    model.save(update_fields=["status", "last_updated_timestamp"])
    record(actions.LOGGED_MODEL_FINALIZED, actor=actor, **target_of(model), changes=changed({"status": before}, {"status": status}))
    return model


@transaction.atomic
def logged_model_delete(*, actor, model: LoggedModel) -> LoggedModel:
    _require_active_model(model)
    model.lifecycle_stage = LifecycleStage.DELETED
    model.deleted_time = now_ms()
    model.save(update_fields=["lifecycle_stage", "deleted_time"])
    changes = _stage_change(LifecycleStage.ACTIVE, LifecycleStage.DELETED)
    record(actions.LOGGED_MODEL_DELETED, actor=actor, **target_of(model), changes=changes)
    return model


@transaction.atomic
def logged_model_restore(*, actor, model: LoggedModel) -> LoggedModel:
    """Undelete a logged model (Warden's API; MLflow has no call for it) unless the purge claimed it."""
    if model.experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise invalid_state("Cannot restore a logged model of a deleted experiment; restore the experiment first.")
    locked = LoggedModel.objects.select_for_update().filter(pk=model.pk, lifecycle_stage=LifecycleStage.DELETED).first()
    if locked is None:
        return model
    refuse_if_purging("logged_model", locked.pk, f"Logged model {locked.model_id}")
    deleted_time = locked.deleted_time
    locked.lifecycle_stage, locked.deleted_time, locked.last_updated_timestamp = LifecycleStage.ACTIVE, None, now_ms()
    locked.save(update_fields=["lifecycle_stage", "deleted_time", "last_updated_timestamp"])
    locked.experiment = model.experiment
    record(
        actions.LOGGED_MODEL_RESTORED, actor=actor, **target_of(locked),
        changes={"before": {"deleted_time": deleted_time}, "after": {"deleted_time": None}},
    )
    return locked


@transaction.atomic
def logged_model_set_tags(*, actor, model: LoggedModel, tags: list[dict]):
    _require_active_model(model)
    rows = dict(validate_tag(t.get("key"), t.get("value")) for t in _tag_dicts(tags))
    LoggedModelTag.objects.bulk_create(
        [LoggedModelTag(logged_model=model, key=k, value=v) for k, v in rows.items()],
        update_conflicts=True,
        unique_fields=["logged_model", "key"],
        update_fields=["value"],
    )
    LoggedModel.objects.filter(pk=model.pk).update(last_updated_timestamp=now_ms())


@transaction.atomic
def logged_model_delete_tag(*, actor, model: LoggedModel, key):
    _require_active_model(model)
    deleted, _ = LoggedModelTag.objects.filter(logged_model=model, key=key).delete()
    if not deleted:
        raise not_found(f"No tag with key '{key}' on logged model '{model.model_id}'.")


@transaction.atomic
def logged_model_log_params(*, actor, model: LoggedModel, params: list[dict]):
    _require_active_model(model)
    rows = dict(validate_param(p.get("key"), p.get("value")) for p in _tag_dicts(params))
    existing = dict(LoggedModelParam.objects.filter(logged_model=model, key__in=rows).values_list("key", "value"))
    for key, value in rows.items():
        if key in existing and existing[key] != value:
            raise invalid(f"Changing param values is not allowed. Param '{key}' of logged model '{model.model_id}' exists.")
    LoggedModelParam.objects.bulk_create(
        [LoggedModelParam(logged_model=model, key=k, value=v) for k, v in rows.items()], ignore_conflicts=True
    )
