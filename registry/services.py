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
from audit.services import record
from experiments.retention import refuse_if_purging
from experiments.errors import already_exists, invalid, invalid_state, not_found
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
    except IntegrityError:
        raise already_exists(f"Registered Model (name={name}) already exists.")
    return model


@transaction.atomic
def registered_model_update(*, actor, model: RegisteredModel, description) -> RegisteredModel:
    model.description = validate_description(description)
    model.last_updated_timestamp = now_ms()
    model.save(update_fields=["description", "last_updated_timestamp"])
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
    RegisteredModelTag.objects.update_or_create(registered_model=model, key=key, defaults={"value": value})


@transaction.atomic
def registered_model_tag_delete(*, actor, model: RegisteredModel, key) -> None:
    key, _ = validate_tag(key, "")
    RegisteredModelTag.objects.filter(registered_model=model, key=key).delete()


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
    RegisteredModel.objects.filter(pk=locked.pk).update(last_updated_timestamp=stamp)
    model.last_updated_timestamp = stamp
    return version


@transaction.atomic
def model_version_update(*, actor, version: ModelVersion, description) -> ModelVersion:
    version.description = validate_description(description)
    version.last_updated_timestamp = now_ms()
    version.save(update_fields=["description", "last_updated_timestamp"])
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
                "registered_model.restored", workspace=locked.workspace, actor=actor, target=locked,
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
        "model_version.restored", workspace=model.workspace, actor=actor, target_type="model_version",
        target_id=locked.pk, target_name=f"{model.name}/{locked.version}",
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
    if archive_existing_versions:
        ModelVersion.objects.filter(registered_model=model, current_stage=stage, deleted=False).exclude(
            pk=version.pk
        ).update(current_stage=Stage.ARCHIVED, last_updated_timestamp=stamp)
    version.current_stage = stage
    version.last_updated_timestamp = stamp
    version.save(update_fields=["current_stage", "last_updated_timestamp"])
    _touch_model(version.registered_model, stamp)
    return version


@transaction.atomic
def model_version_tag_set(*, actor, version: ModelVersion, key, value) -> None:
    key, value = validate_tag(key, value)
    ModelVersion.objects.select_for_update().filter(pk=version.pk).first()  # serialise upserts of its tags
    ModelVersionTag.objects.update_or_create(model_version=version, key=key, defaults={"value": value})


@transaction.atomic
def model_version_tag_delete(*, actor, version: ModelVersion, key) -> None:
    key, _ = validate_tag(key, "")
    ModelVersionTag.objects.filter(model_version=version, key=key).delete()


# ---------------------------------------------------------------- aliases


@transaction.atomic
def alias_set(*, actor, version: ModelVersion, alias) -> RegisteredModelAlias:
    alias = validate_alias(alias, for_write=True)
    lock_model(version.registered_model)
    _require_live(version)
    link, _ = RegisteredModelAlias.objects.update_or_create(
        registered_model_id=version.registered_model_id, alias=alias, defaults={"model_version": version}
    )
    return link


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
    link.delete()
