"""How each governed object is named in the audit log: its workspace, type, id and name.

The id is the one users and the MLflow client see (a run's uuid, an experiment's wire id, a
logged model's ``m-...``), so an auditor can search the log with what a notebook printed. The
workspace comes from related objects already loaded by the access helpers; describing an object
costs no query once it was fetched and authorised.
"""


def _workspace(obj):
    from accounts.models import ApiToken, GroupMapping, Team, Workspace
    from experiments.models import Experiment, LoggedModel, Run
    from notifications.models import Webhook
    from registry.models import ModelVersion, RegisteredModel, TransitionRequest

    if isinstance(obj, Workspace):
        return obj
    if isinstance(obj, (Experiment, RegisteredModel, Team, ApiToken, GroupMapping, Webhook)):
        return obj.workspace
    if isinstance(obj, (Run, LoggedModel)):
        return obj.experiment.workspace
    if isinstance(obj, (ModelVersion, TransitionRequest)):
        return obj.registered_model.workspace
    return None


def _identity(obj) -> tuple[str, str, str]:
    from accounts.models import ApiToken, GroupMapping, Team, User, Workspace
    from experiments.models import Experiment, LoggedModel, Run
    from notifications.models import Webhook
    from registry.models import ModelVersion, RegisteredModel, TransitionRequest

    if isinstance(obj, Workspace):
        return "workspace", str(obj.pk), obj.slug
    if isinstance(obj, User):
        return ("service_account" if obj.is_service_account else "user"), str(obj.pk), obj.get_username()
    if isinstance(obj, Team):
        return "team", str(obj.pk), obj.name
    if isinstance(obj, ApiToken):
        return "api_token", str(obj.pk), obj.name
    if isinstance(obj, Experiment):
        return "experiment", obj.wire_id, obj.name
    if isinstance(obj, Run):
        return "run", obj.run_uuid, obj.name
    if isinstance(obj, LoggedModel):
        return "logged_model", obj.model_id, obj.name
    if isinstance(obj, RegisteredModel):
        return "registered_model", str(obj.pk), obj.name
    if isinstance(obj, ModelVersion):
        return "model_version", str(obj.pk), f"{obj.registered_model.name} v{obj.version}"
    if isinstance(obj, TransitionRequest):
        return "transition_request", str(obj.pk), obj.registered_model.name
    if isinstance(obj, GroupMapping):
        return "group_mapping", str(obj.pk), obj.group
    if isinstance(obj, Webhook):
        return "webhook", obj.webhook_id, obj.name
    raise TypeError(f"No audit identity for {type(obj).__name__}")


def target_of(obj, *, workspace=None) -> dict:
    """Keyword arguments for ``audit.services.record`` naming ``obj`` and its workspace."""
    target_type, target_id, target_name = _identity(obj)
    return {
        "workspace": workspace if workspace is not None else _workspace(obj),
        "target_type": target_type,
        "target_id": target_id,
        "target_name": target_name,
    }


def changed(before: dict, after: dict) -> dict:
    """The ``changes`` of an update: only the fields whose value differs."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {"before": {key: before.get(key) for key in keys}, "after": {key: after[key] for key in keys}}
