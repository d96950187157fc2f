"""MLflow registry endpoints for model versions.

Creating a version validates its source against the caller's workspace and permissions
(``registry.sources``); the answer is READY at once, so the client does not poll.
"""

from accounts.permissions import Level
from experiments.mlflow_api.protocol import endpoint
from registry import promotion, selectors, services
from registry.access import access_model_version, access_registered_model, model_level
from registry.mlflow_api.serializers import model_version_json, search_options, search_page_json
from registry.sources import resolve_source


def _version_response(version) -> dict:
    return {"model_version": model_version_json(selectors.version_details(version))}


def _version(ctx, params, need: Level):
    return access_model_version(ctx, params.str("name", required=True), params.str("version", required=True), need)


@endpoint(["POST"])
def create_model_version(request, ctx, params):
    model = access_registered_model(ctx, params.str("name", required=True), Level.EDIT)
    source = resolve_source(
        ctx, params.str("source", required=True), run_id=params.str("run_id"), model_id=params.str("model_id")
    )
    version = services.model_version_create(
        actor=ctx.user,
        model=model,
        source=source,
        tags=params.raw("tags"),
        description=params.str("description"),
        run_link=params.str("run_link"),
    )
    return _version_response(version)


@endpoint(["GET"])
def get_model_version(request, ctx, params):
    return _version_response(_version(ctx, params, Level.READ))


@endpoint(["PATCH"])
def update_model_version(request, ctx, params):
    version = _version(ctx, params, Level.EDIT)
    services.model_version_update(actor=ctx.user, version=version, description=params.str("description", default=""))
    return _version_response(version)


@endpoint(["DELETE"])
def delete_model_version(request, ctx, params):
    version = _version(ctx, params, Level.MANAGE)
    services.model_version_delete(actor=ctx.user, version=version)
    return {}


@endpoint(["POST"])
def transition_model_version_stage(request, ctx, params):
    version = _version(ctx, params, Level.READ)
    outcome = promotion.stage_transition(
        actor=ctx.user,
        level=model_level(ctx, version.registered_model),
        version=version,
        stage=params.str("stage", required=True),
        archive_existing_versions=params.bool("archive_existing_versions"),
    )
    if outcome.request is not None:
        raise promotion.pending_error(outcome)
    return _version_response(outcome.version)


@endpoint(["GET"])
def get_model_version_download_uri(request, ctx, params):
    version = _version(ctx, params, Level.READ)
    services.model_version_download_record(actor=ctx.user, version=version)
    return {"artifact_uri": version.storage_location}


@endpoint(["GET"])
def search_model_versions(request, ctx, params):
    versions, token = selectors.search_versions(ctx, **search_options(params))
    return search_page_json("model_versions", [model_version_json(v) for v in versions], token)


@endpoint(["POST"])
def set_model_version_tag(request, ctx, params):
    version = _version(ctx, params, Level.EDIT)
    services.model_version_tag_set(actor=ctx.user, version=version, key=params.raw("key"), value=params.raw("value"))
    return {}


@endpoint(["DELETE"])
def delete_model_version_tag(request, ctx, params):
    version = _version(ctx, params, Level.EDIT)
    services.model_version_tag_delete(actor=ctx.user, version=version, key=params.raw("key"))
    return {}
