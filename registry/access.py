"""Fetch-and-authorise for the registry: the only way views reach a registered model or version.

Same rules as ``experiments.access``: a model of another workspace, one that does not exist, a
deleted one (as in MLflow) and one the caller cannot READ all answer 404 RESOURCE_DOES_NOT_EXIST with the same message; a
visible model the caller may not act on answers 403 PERMISSION_DENIED. Versions inherit the
level of their registered model.
"""

from accounts.permissions import Level, carry_granted_level, level_on, with_granted_level, workspace_level
from experiments.access import check_level
from experiments.errors import denied, not_found
from registry.models import ModelVersion, RegisteredModel, TransitionRequest
from registry.validation import canonical_model_name, parse_version


def model_level(ctx, model: RegisteredModel) -> Level:
    """Role floor, creator and grants (``accounts.permissions``); the grant comes folded into
    the fetches below, so deciding costs no query of its own."""
    return level_on(ctx, model)


def model_not_found(name) -> Exception:
    return not_found(f"Registered Model with name={name} not found")


def version_not_found(name, version) -> Exception:
    return not_found(f"Model Version (name={name}, version={version}) not found")


def access_registered_model(ctx, name, need: Level, *, for_update: bool = False) -> RegisteredModel:
    """The named model of ctx.workspace if the caller holds ``need`` on it.

    ``for_update`` locks the row until the end of the surrounding transaction.
    """
    name = canonical_model_name(name)
    queryset = with_granted_level(
        ctx, RegisteredModel.objects.filter(workspace=ctx.workspace, name=name, deleted=False), RegisteredModel
    )
    if for_update:
        queryset = queryset.select_for_update()
    model = queryset.first()
    if model is None:
        raise model_not_found(name)
    model.workspace = ctx.workspace  # fetched within it; naming the model in the audit log needs no query
    check_level(model_level(ctx, model), need, f"registered model '{name}'", model_not_found(name).message, model)
    return model


def access_model_version(ctx, name, version, need: Level) -> ModelVersion:
    """A live (not deleted) version of a model the caller holds ``need`` on; one query."""
    name = canonical_model_name(name)
    number = parse_version(version)
    versions = ModelVersion.objects.select_related("registered_model", "run__experiment", "logged_model").filter(
        registered_model__workspace=ctx.workspace,
        registered_model__name=name,
        registered_model__deleted=False,
        version=number,
        deleted=False,
    )
    model_version = with_granted_level(ctx, versions, RegisteredModel, "registered_model_id").first()
    if model_version is not None:
        carry_granted_level(model_version, model_version.registered_model)
        model_version.registered_model.workspace = ctx.workspace
    if model_version is None:
        # Tell a missing version of a visible model apart from an invisible model only when
        # the caller can see the model anyway.
        access_registered_model(ctx, name, Level.READ)
        raise version_not_found(name, number)
    check_level(
        model_level(ctx, model_version.registered_model), need, f"registered model '{name}'", model_not_found(name).message,
        model_version,
    )
    return model_version


def require_model_create(ctx):
    if workspace_level(ctx) < Level.EDIT:
        raise denied(
            f"Permission denied: creating a registered model needs EDIT in workspace '{ctx.workspace.slug}'.",
            target=ctx.workspace, need=Level.EDIT,
        )


def require_level(ctx, model: RegisteredModel, need: Level, action: str):
    """For a model already fetched: 403 when the caller holds less than ``need``."""
    level = model_level(ctx, model)
    if level < need:
        check_level(level, need, f"registered model '{model.name}'", model_not_found(model.name).message, model)
        raise denied(f"Permission denied: {action} needs {need.name} on registered model '{model.name}'.", target=model, need=need)


def access_transition_request(ctx, request_id, need: Level):
    """A transition request on a model of ctx.workspace the caller holds ``need`` on."""
    requests = TransitionRequest.objects.select_related("registered_model", "model_version").filter(
        pk=request_id, registered_model__workspace=ctx.workspace, registered_model__deleted=False
    )
    request = with_granted_level(ctx, requests, RegisteredModel, "registered_model_id").first()
    if request is None:
        raise not_found(f"Transition request {request_id} not found.")
    carry_granted_level(request, request.registered_model)
    request.registered_model.workspace = ctx.workspace
    level = model_level(ctx, request.registered_model)
    if level < Level.READ:
        raise not_found(f"Transition request {request_id} not found.")
    check_level(
        level, need, f"registered model '{request.registered_model.name}'", f"Transition request {request_id} not found.", request
    )
    return request


def access_deleted_model(ctx, model_id, need: Level) -> RegisteredModel:
    """A deleted registered model of ctx.workspace, by id (deleted names need not be unique)."""
    missing = f"Deleted registered model {model_id} not found."
    models = RegisteredModel.objects.filter(workspace=ctx.workspace, pk=model_id, deleted=True)
    model = with_granted_level(ctx, models, RegisteredModel).first()
    if model is None:
        raise not_found(missing)
    model.workspace = ctx.workspace  # fetched within it; naming the model in the audit log needs no query
    check_level(model_level(ctx, model), need, f"registered model '{model.name}'", missing, model)
    return model


def access_deleted_version(ctx, name, version, need: Level) -> ModelVersion:
    """A deleted version of a live model the caller holds ``need`` on."""
    model = access_registered_model(ctx, name, need)
    found = ModelVersion.objects.filter(registered_model=model, version=parse_version(version), deleted=True).first()
    if found is None:
        raise not_found(f"Deleted model version (name={model.name}, version={version}) not found.")
    found.registered_model = model
    return found
