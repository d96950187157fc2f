"""MLflow experiments endpoints."""

from accounts.permissions import Level
from experiments import access, services
from experiments.mlflow_api.protocol import endpoint
from experiments.mlflow_api.serializers import experiment_to_wire, experiments_to_wire
from experiments.search.experiments import search_experiments
from experiments.validation import MAX_SEARCH_RESULTS


def _experiment_response(experiment):
    return {"experiment": experiments_to_wire([experiment])[0]}


@endpoint(["POST"])
def create(request, ctx, params):
    access.require_workspace_level(ctx, Level.EDIT, "creating an experiment")
    experiment = services.experiment_create(
        actor=ctx.user,
        workspace=ctx.workspace,
        name=params.str("name", required=True),
        tags=params.raw("tags"),
        artifact_location=params.str("artifact_location"),
    )
    return {"experiment_id": experiment.wire_id}


@endpoint(["GET"])
def get(request, ctx, params):
    experiment = access.access_experiment(ctx, params.str("experiment_id", required=True), Level.READ)
    return _experiment_response(experiment)


@endpoint(["GET"])
def get_by_name(request, ctx, params):
    experiment = access.access_experiment_by_name(ctx, params.str("experiment_name", required=True), Level.READ)
    return _experiment_response(experiment)


@endpoint(["POST", "GET"])
def search(request, ctx, params):
    experiments, token = search_experiments(
        ctx,
        filter_string=params.str("filter", default=""),
        view_type=params.str("view_type", default="ACTIVE_ONLY"),
        max_results=params.int("max_results", default=1000, minimum=1, maximum=MAX_SEARCH_RESULTS),
        order_by=params.list("order_by"),
        page_token=params.str("page_token"),
    )
    out = {"experiments": experiments_to_wire(experiments)}
    if token:
        out["next_page_token"] = token
    return out


@endpoint(["POST"])
def update(request, ctx, params):
    experiment = access.access_experiment(ctx, params.str("experiment_id", required=True), Level.MANAGE)
    new_name = params.str("new_name")
    if new_name:
        services.experiment_rename(actor=ctx.user, experiment=experiment, new_name=new_name)
    return {}


@endpoint(["POST"])
def delete(request, ctx, params):
    experiment = access.access_experiment(ctx, params.str("experiment_id", required=True), Level.MANAGE)
    services.experiment_delete(actor=ctx.user, experiment=experiment)
    return {}


@endpoint(["POST"])
def restore(request, ctx, params):
    experiment = access.access_experiment(ctx, params.str("experiment_id", required=True), Level.MANAGE)
    services.experiment_restore(actor=ctx.user, experiment=experiment)
    return {}


@endpoint(["POST"])
def set_tag(request, ctx, params):
    experiment = access.access_experiment(ctx, params.str("experiment_id", required=True), Level.EDIT)
    services.experiment_set_tag(
        actor=ctx.user, experiment=experiment, key=params.str("key", required=True), value=params.raw("value")
    )
    return {}


@endpoint(["POST"])
def delete_tag(request, ctx, params):
    experiment = access.access_experiment(ctx, params.str("experiment_id", required=True), Level.EDIT)
    services.experiment_delete_tag(actor=ctx.user, experiment=experiment, key=params.str("key", required=True))
    return {}
