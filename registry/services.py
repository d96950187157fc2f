"""Writes for the registry: registered models, versions, tags, stages and aliases.

Callers pass objects already fetched and authorised by ``registry.access``. Every function is
transactional and validates before it writes, so a refused request changes nothing. Governed
promotion (protected models) is decided in ``registry.promotion``, which calls the stage and
alias writes here once a transition is allowed.
"""

import time

from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts.services import grant_creator
from audit import actions
from audit.services import record
from audit.targets import changed, target_of
from experiments.errors import already_exists, invalid, invalid_state, not_found
from experiments.retention import refuse_if_purging
from notifications import events
from registry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
    Stage,
    TransitionRequest,
    VersionStatus,
)
from registry.sources import ResolvedSource
from registry.validation import (
    ACTIVE_STAGES,
    canonical_model_name,
    canonical_stage,
    validate_alias,
    validate_description,
    validate_tag,
    validate_tags,
)


def now_ms() -> int:
    return int(time.time() * 1000)


def actor_name(actor) -> str:
    return actor.get_username() if actor is not None else ""


# ---------------------------------------------------------------- registered models


def lock_model(model: RegisteredModel) -> RegisteredModel:
    """Hold the model's row until commit; concurrent upserts on its children then serialise.

    A model deleted meanwhile is gone, as for a fetch."""
    locked = RegisteredModel.objects.select_for_update().filter(pk=model.pk, deleted=False).first()
    if locked is None:
        raise not_found(f"Registered Model with name={model.name} not found")
    if RegisteredModel.workspace.is_cached(model):
        locked.workspace = model.workspace  # the audit event names it without another query
    return locked


def _require_live(version: ModelVersion):
    """After taking the model's lock: the version must not have been deleted meanwhile."""
    if not ModelVersion.objects.filter(pk=version.pk, deleted=False).exists():
        raise not_found(f"Model Version (name={version.registered_model.name}, version={version.version}) not found")


def registered_model_create(*, actor, workspace, name, description=None, tags=None) -> RegisteredModel:
    name = canonical_model_name(name)
    description = validate_description(description)
    tag_values = validate_tags(tags)
    stamp = now_ms()
    try:
        with transaction.atomic():
            model = RegisteredModel.objects.create(
                workspace=workspace,
                name=name,
                description=description,
                created_by=actor,
                creation_timestamp=stamp,
                last_updated_timestamp=stamp,
            )
            RegisteredModelTag.objects.bulk_create(
                [RegisteredModelTag(registered_model=model, key=k, value=v) for k, v in tag_values.items()]
            )
            grant_creator(obj=model, user=actor)  # the creator manages it: an explicit, revocable grant
            record(actions.REGISTERED_MODEL_CREATED, actor=actor, **target_of(model), changes={"after": {"name": name}})
            events.registered_model_created(actor=actor, model=model, tags=tag_values)
    except IntegrityError:
        raise already_exists(f"Registered Model (name={name}) already exists.")
    return model


@transaction.atomic
def registered_model_update(*, actor, model: RegisteredModel, description) -> RegisteredModel:
    before = model.description
    model.description = validate_description(description)
    model.last_updated_timestamp = now_ms()
    model.save(update_fields=["description", "last_updated_timestamp"])
    if before != model.description:
        record(
            actions.REGISTERED_MODEL_UPDATED, actor=actor, **target_of(model),
            changes=changed({"description": before}, {"description": model.description}),
        )
    return model


def registered_model_rename(*, actor, model: RegisteredModel, new_name) -> RegisteredModel:
    new_name = canonical_model_name(new_name, "new_name")
    if new_name == model.name:
        return model
    stamp = now_ms()
    try:
        with transaction.atomic():
            RegisteredModel.objects.filter(pk=model.pk).update(name=new_name, last_updated_timestamp=stamp)
            ModelVersion.objects.filter(registered_model=model, deleted=False).update(last_updated_timestamp=stamp)
            record(
                actions.REGISTERED_MODEL_RENAMED, actor=actor, **{**target_of(model), "target_name": new_name},
                changes=changed({"name": model.name}, {"name": new_name}),
            )
    except IntegrityError:
        raise already_exists(f"Registered Model (name={new_name}) already exists.")
    model.name, model.last_updated_timestamp = new_name, stamp
    return model


@transaction.atomic
def registered_model_delete(*, actor, model: RegisteredModel) -> None:
    locked = lock_model(model)
    if locked.protected:
        raise invalid_state(
            f"Registered model '{model.name}' is protected and cannot be deleted. "
            "Someone with MANAGE must lift the protection first."
        )
    record(actions.REGISTERED_MODEL_DELETED, actor=actor, **target_of(model), changes={"before": {"name": model.name}})
    events.registered_model_deleted(actor=actor, model=locked)
    _soft_delete_model(locked)


def _soft_delete_model(locked: RegisteredModel) -> None:
    """Soft delete: MLflow's client then finds no such model and may reuse the name; the row, its
    versions, tags, aliases and grants stay until the purge, so a restore brings all of it back.
    Pending transition requests are cancelled: an approval must not act on a deleted model."""
    stamp = now_ms()
    TransitionRequest.objects.filter(registered_model=locked, status=TransitionRequest.Status.PENDING).update(
        status=TransitionRequest.Status.CANCELLED, decision_comment="The registered model was deleted.", decided_timestamp=stamp
    )
    RegisteredModel.objects.filter(pk=locked.pk).update(deleted=True, deleted_time=stamp, last_updated_timestamp=stamp)
    locked.deleted, locked.deleted_time = True, stamp


@transaction.atomic
def registered_model_tag_set(*, actor, model: RegisteredModel, key, value) -> None:
    key, value = validate_tag(key, value)
    lock_model(model)
    before = RegisteredModelTag.objects.filter(registered_model=model, key=key).values_list("value", flat=True).first()
    RegisteredModelTag.objects.update_or_create(registered_model=model, key=key, defaults={"value": value})
    if before != value:
        record(actions.REGISTERED_MODEL_TAG_SET, actor=actor, **target_of(model), changes=_tag_change(key, before, value))


def _tag_change(key, before, after) -> dict:
    return {"key": key, "before": {"value": before}, "after": {"value": after}}


@transaction.atomic
def registered_model_tag_delete(*, actor, model: RegisteredModel, key) -> None:
    key, _ = validate_tag(key, "")
    rows = RegisteredModelTag.objects.filter(registered_model=model, key=key)
    before = rows.values_list("value", flat=True).first()
    if rows.delete()[0]:
        record(actions.REGISTERED_MODEL_TAG_DELETED, actor=actor, **target_of(model), changes=_tag_change(key, before, None))


# ---------------------------------------------------------------- model versions


@transaction.atomic
def model_version_create(
    *, actor, model: RegisteredModel, source: ResolvedSource, tags=None, description=None, run_link=None
) -> ModelVersion:
    """Number the new version max+1 while holding the parent row's lock: gap-free, never reused.

    Deleted versions keep their rows, so their numbers are not handed out again.
    """
    tag_values = validate_tags(tags)
    description = validate_description(description)
    if run_link is not None and not isinstance(run_link, str):
        raise invalid("Invalid value for parameter 'run_link': must be a string.")
    locked = lock_model(model)
    highest = ModelVersion.objects.filter(registered_model=locked).aggregate(top=Max("version"))["top"] or 0
    stamp = now_ms()
    version = ModelVersion.objects.create(
        registered_model=locked,
        version=highest + 1,
        source=source.source,
        storage_location=source.storage_location,
        run=source.run,
        logged_model=source.logged_model,
        run_link=run_link or "",
        status=VersionStatus.READY,
        description=description,
        user_id=actor_name(actor),
        created_by=actor,
        creation_timestamp=stamp,
        last_updated_timestamp=stamp,
    )
    ModelVersionTag.objects.bulk_create([ModelVersionTag(model_version=version, key=k, value=v) for k, v in tag_values.items()])
    events.model_version_created(actor=actor, version=version, tags=tag_values)
    RegisteredModel.objects.filter(pk=locked.pk).update(last_updated_timestamp=stamp)
    model.last_updated_timestamp = stamp
    version.registered_model = model
    record(
        actions.MODEL_VERSION_CREATED, actor=actor, **target_of(version),
        changes={"after": {"version": version.version, "source": version.source}},
    )
    return version


@transaction.atomic
def model_version_update(*, actor, version: ModelVersion, description) -> ModelVersion:
    before = version.description
    version.description = validate_description(description)
    version.last_updated_timestamp = now_ms()
    version.save(update_fields=["description", "last_updated_timestamp"])
    if before != version.description:
        record(
            actions.MODEL_VERSION_UPDATED, actor=actor, **target_of(version),
            changes=changed({"description": before}, {"description": version.description}),
        )
    return version


def _touch_model(model: RegisteredModel, stamp: int):
    RegisteredModel.objects.filter(pk=model.pk).update(last_updated_timestamp=stamp)
    model.last_updated_timestamp = stamp


@transaction.atomic
def model_version_delete(*, actor, version: ModelVersion) -> None:
    """Soft delete: the row keeps its number; aliases and pending requests on it go away."""
    model = lock_model(version.registered_model)
    if model.protected:
        held = [a.alias for a in RegisteredModelAlias.objects.filter(model_version=version) if model.is_protected_alias(a.alias)]
        if held:
            raise invalid_state(
                f"Version {version.version} of protected model '{model.name}' holds the protected alias "
                f"'{held[0]}' and cannot be deleted. Someone with MANAGE must lift the protection first."
            )
        if version.current_stage == Stage.PRODUCTION:
            raise invalid_state(
                f"Version {version.version} of protected model '{model.name}' is in Production and cannot be "
                "deleted. Someone with MANAGE must lift the protection first."
            )
    stamp = now_ms()
    RegisteredModelAlias.objects.filter(model_version=version).delete()
    TransitionRequest.objects.filter(model_version=version, status=TransitionRequest.Status.PENDING).update(
        status=TransitionRequest.Status.CANCELLED,
        decision_comment="The model version was deleted.",
        decided_timestamp=stamp,
    )
    ModelVersion.objects.filter(pk=version.pk).update(deleted=True, deleted_time=stamp, last_updated_timestamp=stamp)
    version.deleted = True
    _touch_model(model, stamp)
    record(actions.MODEL_VERSION_DELETED, actor=actor, **target_of(version), changes={"before": {"stage": version.current_stage}})


def registered_model_restore(*, actor, model: RegisteredModel) -> RegisteredModel:
    """Bring a deleted model back under its name, unless a live model took the name meanwhile
    or the purge has already claimed it."""
    taken = already_exists(f"Registered Model (name={model.name}) already exists: rename it before restoring this one.")
    try:
        with transaction.atomic():
            locked = RegisteredModel.objects.select_for_update().filter(pk=model.pk).first()
            if locked is None or not locked.deleted:
                return locked or model
            refuse_if_purging("registered_model", locked.pk, f"Registered model '{locked.name}'")
            if RegisteredModel.objects.filter(workspace_id=locked.workspace_id, name=locked.name, deleted=False).exists():
                raise taken
            deleted_time = locked.deleted_time
            locked.deleted, locked.deleted_time, locked.last_updated_timestamp = False, None, now_ms()
            locked.save(update_fields=["deleted", "deleted_time", "last_updated_timestamp"])
            record(
                actions.REGISTERED_MODEL_RESTORED, actor=actor, **target_of(locked),
                changes={"before": {"deleted_time": deleted_time}, "after": {"deleted_time": None}},
            )
    except IntegrityError:  # a live model took the name concurrently
        raise taken from None
    return locked


@transaction.atomic
def model_version_restore(*, actor, version: ModelVersion) -> ModelVersion:
    """Undelete a version (its number was never reused); aliases removed at deletion stay removed."""
    model = lock_model(version.registered_model)
    locked = ModelVersion.objects.select_for_update().filter(pk=version.pk, deleted=True).first()
    if locked is None:
        return version
    refuse_if_purging("model_version", locked.pk, f"Version {locked.version} of registered model '{model.name}'")
    deleted_time, stamp = locked.deleted_time, now_ms()
    locked.deleted, locked.deleted_time, locked.last_updated_timestamp = False, None, stamp
    locked.save(update_fields=["deleted", "deleted_time", "last_updated_timestamp"])
    _touch_model(model, stamp)
    locked.registered_model = model
    record(
        actions.MODEL_VERSION_RESTORED, actor=actor, **target_of(locked),
        changes={"before": {"deleted_time": deleted_time}, "after": {"deleted_time": None}},
    )
    return locked


@transaction.atomic
def model_version_stage_transition(*, actor, version: ModelVersion, stage, archive_existing_versions=False) -> ModelVersion:
    """MLflow's transition: with archive_existing_versions, others in that stage go to Archived."""
    stage = canonical_stage(stage)
    if archive_existing_versions and stage not in ACTIVE_STAGES:
        raise invalid(
            "Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
        )
    model = lock_model(version.registered_model)
    _require_live(version)
    stamp = now_ms()
    archived = []
    if archive_existing_versions:
        others = ModelVersion.objects.filter(registered_model=model, current_stage=stage, deleted=False).exclude(pk=version.pk)
        archived = sorted(others.values_list("version", flat=True))
        others.update(current_stage=Stage.ARCHIVED, last_updated_timestamp=stamp)
    before = version.current_stage
    version.current_stage = stage
    version.last_updated_timestamp = stamp
    version.save(update_fields=["current_stage", "last_updated_timestamp"])
    _touch_model(version.registered_model, stamp)
    record(
        actions.MODEL_VERSION_STAGE_TRANSITIONED, actor=actor, **target_of(version),
        changes={"before": {"stage": before}, "after": {"stage": stage}, "archived_versions": archived},
    )
    events.stage_transitioned(actor=actor, version=version, archive_existing_versions=archive_existing_versions)
    return version


@transaction.atomic
def model_version_tag_set(*, actor, version: ModelVersion, key, value) -> None:
    key, value = validate_tag(key, value)
    ModelVersion.objects.select_for_update().filter(pk=version.pk).first()  # serialise upserts of its tags
    before = ModelVersionTag.objects.filter(model_version=version, key=key).values_list("value", flat=True).first()
    ModelVersionTag.objects.update_or_create(model_version=version, key=key, defaults={"value": value})
    if before != value:
        record(actions.MODEL_VERSION_TAG_SET, actor=actor, **target_of(version), changes=_tag_change(key, before, value))
    events.model_version_tag_set(actor=actor, version=version, key=key, value=value)


@transaction.atomic
def model_version_tag_delete(*, actor, version: ModelVersion, key) -> None:
    key, _ = validate_tag(key, "")
    rows = ModelVersionTag.objects.filter(model_version=version, key=key)
    before = rows.values_list("value", flat=True).first()
    if rows.delete()[0]:
        record(actions.MODEL_VERSION_TAG_DELETED, actor=actor, **target_of(version), changes=_tag_change(key, before, None))
        events.model_version_tag_deleted(actor=actor, version=version, key=key)


def model_version_download_record(*, actor, version: ModelVersion) -> None:
    """Audit the resolution of ``models:/name/version`` (or ``@alias``) to the version's files,
    the registry's half of a model load (the files' half: ``experiments.artifacts.services``)."""
    record(actions.MODEL_VERSION_DOWNLOAD_URI_RESOLVED, actor=actor, **target_of(version), changes={"version": version.version})


# ---------------------------------------------------------------- aliases


@transaction.atomic
def alias_set(*, actor, version: ModelVersion, alias) -> RegisteredModelAlias:
    alias = validate_alias(alias, for_write=True)
    lock_model(version.registered_model)
    _require_live(version)
    previous = (
        RegisteredModelAlias.objects.filter(registered_model_id=version.registered_model_id, alias=alias)
        .values_list("model_version__version", flat=True)
        .first()
    )
    link, _ = RegisteredModelAlias.objects.update_or_create(
        registered_model_id=version.registered_model_id, alias=alias, defaults={"model_version": version}
    )
    if previous != version.version:
        changes = _alias_change(alias, previous, version.version)
        record(actions.ALIAS_SET, actor=actor, **target_of(version.registered_model), changes=changes)
    events.alias_created(actor=actor, version=version, alias=alias)
    return link


def _alias_change(alias, before, after) -> dict:
    return {"alias": alias, "before": {"version": before}, "after": {"version": after}}


@transaction.atomic
def alias_delete(*, actor, model: RegisteredModel, alias) -> None:
    alias = validate_alias(alias, for_write=False)
    link = RegisteredModelAlias.objects.filter(registered_model=model, alias=alias).first()
    if link is None:
        return
    if model.is_protected_alias(alias):
        raise invalid_state(
            f"Alias '{alias}' of protected model '{model.name}' cannot be deleted. "
            "Someone with MANAGE must lift the protection first."
        )
    record(actions.ALIAS_DELETED, actor=actor, **target_of(model), changes=_alias_change(alias, link.model_version.version, None))
    events.alias_deleted(actor=actor, model=model, alias=alias)
    link.delete()
