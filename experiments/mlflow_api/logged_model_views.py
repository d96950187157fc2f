"""MLflow 3 logged models endpoints (every ``log_model`` goes through them)."""

from accounts.permissions import Level
from experiments import access, services
from experiments.errors import invalid
from experiments.mlflow_api.protocol import endpoint
from experiments.mlflow_api.serializers import logged_models_to_wire
from experiments.search.logged_models import search_logged_models


def _model_response(model):
    return {"model": logged_models_to_wire([model])[0]}


@endpoint(["POST"])
def create(request, ctx, params):
    experiment = access.access_experiment(ctx, params.str("experiment_id", required=True), Level.EDIT)
    source_run = None
    if params.str("source_run_id"):
        source_run = access.access_run(ctx, params.str("source_run_id"), Level.EDIT)
    model = services.logged_model_create(
        actor=ctx.user,
        experiment=experiment,
        name=params.str("name"),
        model_type=params.str("model_type", default=""),
        source_run=source_run,
        params=params.raw("params"),
        tags=params.raw("tags"),
    )
    return _model_response(model)


@endpoint(["GET", "PATCH", "DELETE"])
def detail(request, ctx, params, model_id):
    """GET reads, PATCH finalizes (sets the upload status), DELETE soft-deletes."""
    if request.method == "GET":
        return _model_response(access.access_logged_model(ctx, model_id, Level.READ))
    model = access.access_logged_model(ctx, model_id, Level.EDIT)
    if request.method == "DELETE":
        services.logged_model_delete(actor=ctx.user, model=model)
        return {}
    services.logged_model_finalize(actor=ctx.user, model=model, status=params.str("status", required=True))
    return _model_response(model)


@endpoint(["POST"])
def search(request, ctx, params):
    datasets = params.raw("datasets")
    if datasets is not None and not isinstance(datasets, list):
        raise invalid("Invalid value for parameter 'datasets': must be a list.")
    models, token = search_logged_models(
        ctx,
        experiment_ids=[str(e) for e in params.list("experiment_ids")],
        filter_string=params.str("filter", default=""),
        datasets=datasets,
        max_results=params.int("max_results", default=100, minimum=1),
        order_by=params.raw("order_by"),
        page_token=params.str("page_token"),
    )
    out = {"models": logged_models_to_wire(models)}
    if token:
        out["next_page_token"] = token
    return out


@endpoint(["PATCH"])
def set_tags(request, ctx, params, model_id):
    model = access.access_logged_model(ctx, model_id, Level.EDIT)
    services.logged_model_set_tags(actor=ctx.user, model=model, tags=params.dict_list("tags"))
    return {}


@endpoint(["DELETE"])
def delete_tag(request, ctx, params, model_id, tag_key):
    model = access.access_logged_model(ctx, model_id, Level.EDIT)
    services.logged_model_delete_tag(actor=ctx.user, model=model, key=tag_key)
    return {}


@endpoint(["POST"])
def log_params(request, ctx, params, model_id):
    model = access.access_logged_model(ctx, model_id, Level.EDIT)
    services.logged_model_log_params(actor=ctx.user, model=model, params=params.dict_list("params"))
    return {}
