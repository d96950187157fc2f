"""MLflow runs endpoints, including the ingest calls (log-metric, log-batch)."""

from accounts.permissions import Level
from experiments import access, services
from experiments.errors import invalid
from experiments.mlflow_api.protocol import endpoint
from experiments.mlflow_api.serializers import run_info_to_wire, runs_to_wire
from experiments.search.runs import search_runs
from experiments.validation import MAX_SEARCH_RESULTS


def _run_id(params) -> str:
    run_id = params.str("run_id") or params.str("run_uuid")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    return run_id


def _run(ctx, params, need):
    return access.access_run(ctx, _run_id(params), need)


@endpoint(["POST"])
def create(request, ctx, params):
    experiment = access.access_experiment(ctx, params.str("experiment_id", default="0"), Level.EDIT)
    run = services.run_create(
        actor=ctx.user,
        experiment=experiment,
        run_name=params.str("run_name"),
        start_time=params.int("start_time"),
        tags=params.raw("tags"),
    )
    return {"run": runs_to_wire([run])[0]}


@endpoint(["GET"])
def get(request, ctx, params):
    return {"run": runs_to_wire([_run(ctx, params, Level.READ)])[0]}


@endpoint(["POST"])
def update(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    services.run_update(
        actor=ctx.user,
        run=run,
        status=params.str("status"),
        end_time=params.int("end_time"),
        run_name=params.str("run_name"),
    )
    return {"run_info": run_info_to_wire(run)}


@endpoint(["POST"])
def delete(request, ctx, params):
    services.run_delete(actor=ctx.user, run=_run(ctx, params, Level.EDIT))
    return {}


@endpoint(["POST"])
def restore(request, ctx, params):
    services.run_restore(actor=ctx.user, run=_run(ctx, params, Level.EDIT))
    return {}


@endpoint(["POST"])
def search(request, ctx, params):
    runs, token = search_runs(
        ctx,
        experiment_ids=[str(e) for e in params.list("experiment_ids")],
        filter_string=params.str("filter", default=""),
        run_view_type=params.str("run_view_type", default="ACTIVE_ONLY"),
        max_results=params.int("max_results", default=1000, minimum=1, maximum=MAX_SEARCH_RESULTS),
        order_by=params.list("order_by"),
        page_token=params.str("page_token"),
    )
    out = {"runs": runs_to_wire(runs)}
    if token:
        out["next_page_token"] = token
    return out


@endpoint(["POST"])
def set_tag(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    services.run_set_tag(actor=ctx.user, run=run, key=params.str("key", required=True), value=params.raw("value"))
    return {}


@endpoint(["POST"])
def delete_tag(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    services.run_delete_tag(actor=ctx.user, run=run, key=params.str("key", required=True))
    return {}


@endpoint(["POST"])
def log_parameter(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    if params.raw("value") is None:
        raise invalid("Missing value for required parameter 'value'.")
    services.run_log_param(actor=ctx.user, run=run, key=params.str("key", required=True), value=params.raw("value"))
    return {}


@endpoint(["POST"])
def log_metric(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    metric = {k: params.raw(k) for k in ("key", "value", "timestamp", "step", "model_id")}
    services.run_log_batch(actor=ctx.user, run=run, metrics=[metric], params=[], tags=[])
    return {}


@endpoint(["POST"])
def log_batch(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    services.run_log_batch(
        actor=ctx.user,
        run=run,
        metrics=params.list("metrics"),
        params=params.list("params"),
        tags=params.list("tags"),
    )
    return {}


@endpoint(["POST"])
def log_model(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    services.run_log_model_history(actor=ctx.user, run=run, model_json=params.raw("model_json"))
    return {}


def _logged_models(ctx, run, items, need) -> dict:
    """Logged models named by a request must be visible and in the run's experiment."""
    models = {}
    for item in items:
        model_id = item.get("model_id")
        if not isinstance(model_id, str) or not model_id:
            raise invalid("Missing value for required parameter 'model_id'.")
        models[model_id] = access.access_logged_model(ctx, model_id, need)
    return models


@endpoint(["POST"])
def log_inputs(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    models = params.dict_list("models")
    services.run_log_inputs(
        actor=ctx.user,
        run=run,
        datasets=params.dict_list("datasets"),
        models=models,
        logged_models_by_id=_logged_models(ctx, run, models, Level.READ),
    )
    return {}


@endpoint(["POST"])
def log_outputs(request, ctx, params):
    run = _run(ctx, params, Level.EDIT)
    items = params.dict_list("models")
    by_id = _logged_models(ctx, run, items, Level.READ)
    outputs = []
    for item in items:
        step = item.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, (int, str)) or not str(step).lstrip("-").isdigit():
            raise invalid("Invalid value for parameter 'step' of a model output: must be an integer.")
        outputs.append((by_id[item["model_id"]], int(step)))
    services.run_log_outputs(actor=ctx.user, run=run, models=outputs)
    return {}
