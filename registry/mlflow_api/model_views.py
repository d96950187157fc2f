"""MLflow registry endpoints for registered models, their tags and aliases.

HTTP methods follow the mlflow client's rest_store: get/search/alias-get are GET with query
strings, update is PATCH, delete and delete-tag are DELETE with a JSON body, the rest POST.
"""

from accounts.permissions import Level
from experiments.errors import invalid
from experiments.mlflow_api.protocol import endpoint
from registry import promotion, selectors, services
from registry.access import access_model_version, access_registered_model, require_model_create
from registry.mlflow_api.serializers import (
    model_version_json,
    registered_model_json,
    search_options,
    search_page_json,
)
from registry.validation import parse_version, validate_alias


def _model_response(model) -> dict:
    return {"registered_model": registered_model_json(selectors.model_details([model])[0])}


@endpoint(["POST"])
def create_registered_model(request, ctx, params):
    require_model_create(ctx)
    model = services.registered_model_create(
        actor=ctx.user,
        workspace=ctx.workspace,
        name=params.str("name", required=True),
        description=params.str("description"),
        tags=params.raw("tags"),
    )
    return _model_response(model)


@endpoint(["GET"])
def get_registered_model(request, ctx, params):
    return _model_response(access_registered_model(ctx, params.str("name", required=True), Level.READ))


@endpoint(["PATCH"])
def update_registered_model(request, ctx, params):
    model = access_registered_model(ctx, params.str("name", required=True), Level.EDIT)
    model = services.registered_model_update(actor=ctx.user, model=model, description=params.str("description", default=""))
    return _model_response(model)


@endpoint(["POST"])
def rename_registered_model(request, ctx, params):
    model = access_registered_model(ctx, params.str("name", required=True), Level.MANAGE)
    model = services.registered_model_rename(actor=ctx.user, model=model, new_name=params.str("new_name", required=True))
    return _model_response(model)


@endpoint(["DELETE"])
def delete_registered_model(request, ctx, params):
    model = access_registered_model(ctx, params.str("name", required=True), Level.MANAGE)
    services.registered_model_delete(actor=ctx.user, model=model)
    return {}


@endpoint(["GET"])
def search_registered_models(request, ctx, params):
    models, token = selectors.search_models(ctx, **search_options(params))
    return search_page_json("registered_models", [registered_model_json(m) for m in models], token)


@endpoint(["POST", "GET"])
def get_latest_versions(request, ctx, params):
    model = access_registered_model(ctx, params.str("name", required=True), Level.READ)
    stages = params.list("stages")
    if not all(isinstance(s, str) for s in stages):
        raise invalid("Invalid value for parameter 'stages': every entry must be a string.")
    versions = selectors.latest_versions_for(model, stages)
    return {"model_versions": [model_version_json(v) for v in versions]} if versions else {}


@endpoint(["POST"])
def set_registered_model_tag(request, ctx, params):
    model = access_registered_model(ctx, params.str("name", required=True), Level.EDIT)
    services.registered_model_tag_set(actor=ctx.user, model=model, key=params.raw("key"), value=params.raw("value"))
    return {}


@endpoint(["DELETE"])
def delete_registered_model_tag(request, ctx, params):
    model = access_registered_model(ctx, params.str("name", required=True), Level.EDIT)
    services.registered_model_tag_delete(actor=ctx.user, model=model, key=params.raw("key"))
    return {}


@endpoint(["POST", "DELETE", "GET"])
def registered_model_alias(request, ctx, params):
    """One path, three calls: set (POST), delete (DELETE) and get-by-alias (GET)."""
    name = params.str("name", required=True)
    if request.method == "GET":
        alias = validate_alias(params.str("alias", required=True), for_write=False)
        model = access_registered_model(ctx, name, Level.READ)
        if alias.lower() == "latest":
            version = selectors.highest_version(model)
        else:
            version = selectors.version_by_alias(model, alias)
        return {"model_version": model_version_json(version)}
    if request.method == "DELETE":
        model = access_registered_model(ctx, name, Level.EDIT)
        services.alias_delete(actor=ctx.user, model=model, alias=params.str("alias", required=True))
        return {}
    alias = validate_alias(params.str("alias", required=True), for_write=True)
    parse_version(params.str("version", required=True))
    version = access_model_version(ctx, name, params.str("version"), Level.EDIT)
    outcome = promotion.alias_assign(actor=ctx.user, version=version, alias=alias)
    if outcome.request is not None:
        raise promotion.pending_error(outcome)
    return {}
