"""The domain events Warden emits, their payloads, and one emitter per event for the services.

Event names are MLflow's ``entity.action``. MLflow's own events (registry ones; prompts and
budget policies are accepted in subscriptions but Warden never fires them) carry exactly
MLflow's payloads. Warden adds run, promotion and governance events in the same shape.

Each emitter is one call a service makes inside its transaction; it writes the outbox row.
"""

from notifications import outbox

# MLflow 3.x: the entity/action pairs its webhook API accepts (mlflow.entities.webhook).
MLFLOW_EVENTS = {
    "registered_model": ("created",),
    "model_version": ("created",),
    "model_version_tag": ("set", "deleted"),
    "model_version_alias": ("created", "deleted"),
    "prompt": ("created",),
    "prompt_version": ("created",),
    "prompt_tag": ("set", "deleted"),
    "prompt_version_tag": ("set", "deleted"),
    "prompt_alias": ("created", "deleted"),
    "budget_policy": ("exceeded",),
}
# Warden's additions. The mlflow client cannot parse these, so the MLflow API lists them apart
# (``warden_events``) from the ``events`` it understands.
WARDEN_EVENTS = {
    "registered_model": ("deleted",),
    "model_version": ("stage_transitioned",),
    "transition_request": ("created", "approved", "rejected", "cancelled"),
    "run": ("finished", "failed"),
    "experiment": ("deleted",),
    "grant": ("changed",),
}


def _names(table) -> set[str]:
    return {f"{entity}.{action}" for entity, actions in table.items() for action in actions}


MLFLOW_EVENT_NAMES = _names(MLFLOW_EVENTS)
WARDEN_EVENT_NAMES = _names(WARDEN_EVENTS)
ALL_EVENT_NAMES = MLFLOW_EVENT_NAMES | WARDEN_EVENT_NAMES


def valid_actions(entity: str) -> list[str]:
    return sorted(set(MLFLOW_EVENTS.get(entity, ())) | set(WARDEN_EVENTS.get(entity, ())))


EXAMPLES = {
    "registered_model.created": {"name": "example_model", "tags": {"example_key": "example_value"}, "description": "An example registered model"},
    "model_version.created": {
        "name": "example_model", "version": "1", "source": "models:/m-0123456789abcdef", "run_id": "0123456789abcdef",
        "tags": {"example_key": "example_value"}, "description": "An example model version",
    },
    "model_version_tag.set": {"name": "example_model", "version": "1", "key": "example_key", "value": "example_value"},
    "model_version_tag.deleted": {"name": "example_model", "version": "1", "key": "example_key"},
    "model_version_alias.created": {"name": "example_model", "alias": "example_alias", "version": "1"},
    "model_version_alias.deleted": {"name": "example_model", "alias": "example_alias"},
    "registered_model.deleted": {"name": "example_model"},
    "model_version.stage_transitioned": {"name": "example_model", "version": "1", "stage": "Staging", "archive_existing_versions": False},
    "run.finished": {
        "run_id": "0123456789abcdef", "run_name": "example-run", "experiment_id": "1", "experiment_name": "example",
        "status": "FINISHED", "user_id": "example_user", "end_time": 1700000000000,
    },
    "experiment.deleted": {"experiment_id": "1", "name": "example"},
    "grant.changed": {
        "object_type": "registered_model", "object_id": "example_model", "object_name": "example_model",
        "principal_type": "user", "principal": "example_user", "level": "READ",
    },
}
_TRANSITION_EXAMPLE = {
    "request_id": 1, "name": "example_model", "version": "1", "kind": "stage", "to_stage": "Production", "alias": "",
    "requested_by": "example_user", "decided_by": "",
}
for _action in WARDEN_EVENTS["transition_request"]:
    EXAMPLES[f"transition_request.{_action}"] = _TRANSITION_EXAMPLE
EXAMPLES["run.failed"] = {**EXAMPLES["run.finished"], "status": "FAILED"}


def example_payload(event_type: str) -> dict:
    """What ``webhooks/<id>/test`` sends; MLflow events Warden never fires get a placeholder."""
    return EXAMPLES.get(event_type, {"name": "example"})


def _tags(rows) -> dict:
    return {str(k): str(v) for k, v in dict(rows or {}).items()}


# ---------------------------------------------------------------- registry


def registered_model_created(*, actor, model, tags=None):
    outbox.emit("registered_model.created", workspace=model.workspace, actor=actor, target=model,
                payload={"name": model.name, "tags": _tags(tags), "description": model.description or None})


def registered_model_deleted(*, actor, model):
    outbox.emit("registered_model.deleted", workspace=model.workspace, actor=actor, target=model, payload={"name": model.name})


def model_version_created(*, actor, version, tags=None):
    model = version.registered_model
    outbox.emit("model_version.created", workspace=model.workspace, actor=actor, target=model, payload={
        "name": model.name, "version": str(version.version), "source": version.source,
        "run_id": version.run.run_uuid if version.run_id else None, "tags": _tags(tags),
        "description": version.description or None,
    })


def model_version_tag_set(*, actor, version, key, value):
    model = version.registered_model
    outbox.emit("model_version_tag.set", workspace=model.workspace, actor=actor, target=model,
                payload={"name": model.name, "version": str(version.version), "key": key, "value": value})


def model_version_tag_deleted(*, actor, version, key):
    model = version.registered_model
    outbox.emit("model_version_tag.deleted", workspace=model.workspace, actor=actor, target=model,
                payload={"name": model.name, "version": str(version.version), "key": key})


def alias_created(*, actor, version, alias):
    model = version.registered_model
    outbox.emit("model_version_alias.created", workspace=model.workspace, actor=actor, target=model,
                payload={"name": model.name, "alias": alias, "version": str(version.version)})


def alias_deleted(*, actor, model, alias):
    outbox.emit("model_version_alias.deleted", workspace=model.workspace, actor=actor, target=model,
                payload={"name": model.name, "alias": alias})


def stage_transitioned(*, actor, version, archive_existing_versions=False):
    model = version.registered_model
    outbox.emit("model_version.stage_transitioned", workspace=model.workspace, actor=actor, target=model, payload={
        "name": model.name, "version": str(version.version), "stage": version.current_stage,
        "archive_existing_versions": bool(archive_existing_versions),
    })


def transition_request(*, actor, request, action: str):
    """``action``: created (opened), approved, rejected or cancelled."""
    from registry.models import ModelVersion

    model = request.registered_model
    version = ModelVersion.objects.filter(pk=request.model_version_id).values_list("version", flat=True).first()
    outbox.emit(f"transition_request.{action}", workspace=model.workspace, actor=actor, target=model, payload={
        "request_id": request.pk, "name": model.name, "version": str(version), "kind": request.kind,
        "to_stage": request.to_stage, "alias": request.alias, "requested_by": request.requested_by_name,
        "decided_by": request.decided_by_name,
    })


# ---------------------------------------------------------------- tracking


def run_updated(*, actor, run, fields):
    """After run_update: a run whose status was set to FINISHED or FAILED has ended."""
    if "status" not in fields or run.status not in ("FINISHED", "FAILED"):
        return
    experiment = run.experiment
    outbox.emit(f"run.{run.status.lower()}", workspace=experiment.workspace, actor=actor, target=experiment, payload={
        "run_id": run.run_uuid, "run_name": run.name, "experiment_id": experiment.wire_id,
        "experiment_name": experiment.name, "status": run.status, "user_id": run.user_id, "end_time": run.end_time,
    })


def experiment_deleted(*, actor, experiment):
    outbox.emit("experiment.deleted", workspace=experiment.workspace, actor=actor, target=experiment,
                payload={"experiment_id": experiment.wire_id, "name": experiment.name})


# ---------------------------------------------------------------- governance


def grant_changed(*, actor, obj, user=None, team=None, level=None):
    """``level`` None: the grant was revoked."""
    kind = obj._meta.model_name
    object_type = "registered_model" if kind == "registeredmodel" else kind
    outbox.emit("grant.changed", workspace=obj.workspace, actor=actor, target=obj, payload={
        "object_type": object_type, "object_id": getattr(obj, "wire_id", obj.name), "object_name": obj.name,
        "principal_type": "user" if user is not None else "team",
        "principal": user.get_username() if user is not None else team.name,
        "level": getattr(level, "name", level),
    })
