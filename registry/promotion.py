"""Governed promotion: protected models, transition requests and four-eyes approval.

On an unprotected model, stage transitions and aliases act at once, exactly as in MLflow.
On a protected model, moving a version to Production or pointing a protected alias (default
``champion``) at it opens a TransitionRequest instead; another person holding MANAGE on the model
approves (which performs the change) or rejects it, and the requester may cancel it.

What the MLflow call answers when it opened a request: 403 PERMISSION_DENIED whose message
names the request. This is what a Databricks user knows (a direct transition they may not make
is refused, and transitions are requested and approved through separate endpoints), and it keeps
scripts and CI jobs from taking an unchanged version for a promoted one.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.permissions import Level
from audit import actions
from audit.services import record
from audit.targets import target_of
from experiments.errors import MlflowError, denied, invalid, invalid_state, not_found
from notifications import events
from registry import services
from registry.models import ModelVersion, RegisteredModel, RegisteredModelAlias, Stage, TransitionRequest
from registry.validation import ACTIVE_STAGES, canonical_stage, validate_alias

MAX_PROTECTED_ALIASES = 100
MAX_COMMENT_LENGTH = 10_000


@dataclass(frozen=True)
class Outcome:
    """What a promotion call did: changed the version, or opened (or found) a pending request."""

    version: ModelVersion
    request: TransitionRequest | None = None
    created: bool = False


def needed_level_for_stage(model: RegisteredModel, version: ModelVersion, stage: str) -> Level:
    """Production in or out needs MANAGE; on a protected model EDIT may ask for Production."""
    if stage == Stage.PRODUCTION and model.protected:
        return Level.EDIT
    if Stage.PRODUCTION in (stage, version.current_stage):
        return Level.MANAGE
    return Level.EDIT


def pending_error(outcome: Outcome) -> MlflowError:
    request = outcome.request
    model = request.registered_model
    what = f"moving version {outcome.version.version} to Production" if request.kind == TransitionRequest.Kind.STAGE else (
        f"pointing the protected alias '{request.alias}' at version {outcome.version.version}"
    )
    state = "Opened" if outcome.created else "There already is a pending"
    return denied(
        f"Registered model '{model.name}' is protected: {what} needs approval by a second person with MANAGE. "
        f"{state} transition request {request.pk}; approve it with "
        f"POST /api/v1/registry/transition-requests/{request.pk}/approve.",
        target=outcome.version, need="approval",
    )


def _comment(comment) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_LENGTH:
        raise invalid(f"A comment must be a string of at most {MAX_COMMENT_LENGTH} characters.")
    return comment


def _open_request(*, actor, version, kind, to_stage="", alias="", archive=False, comment="") -> tuple[TransitionRequest, bool]:
    """One pending request per (version, target): asking again finds the open one."""
    fields = {"model_version": version, "kind": kind, "to_stage": to_stage, "alias": alias}
    existing = TransitionRequest.objects.filter(status=TransitionRequest.Status.PENDING, **fields).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            request = TransitionRequest.objects.create(
                registered_model_id=version.registered_model_id,
                archive_existing_versions=archive,
                requested_by=actor,
                requested_by_name=services.actor_name(actor),
                comment=_comment(comment),
                creation_timestamp=services.now_ms(),
                **fields,
            )
            events.transition_request(actor=actor, request=request, action="created")
    except IntegrityError:  # a concurrent identical request won
        return TransitionRequest.objects.get(status=TransitionRequest.Status.PENDING, **fields), False
    request.registered_model = version.registered_model
    record(actions.TRANSITION_REQUEST_OPENED, actor=actor, **target_of(request), changes={"after": _request_facts(request, version)})
    return request, True


def _request_facts(request: TransitionRequest, version: ModelVersion) -> dict:
    """What a request asks for; the target is the request, these name the version and the change."""
    facts = {"version": version.version, "status": request.status, "requested_by": request.requested_by_name}
    if request.kind == TransitionRequest.Kind.STAGE:
        facts.update(to_stage=request.to_stage, archive_existing_versions=request.archive_existing_versions)
    else:
        facts["alias"] = request.alias
    return facts


def _already_in_production(version: ModelVersion, archive: bool) -> bool:
    if version.current_stage != Stage.PRODUCTION:
        return False
    if not archive:
        return True
    others = ModelVersion.objects.filter(
        registered_model_id=version.registered_model_id, current_stage=Stage.PRODUCTION, deleted=False
    ).exclude(pk=version.pk)
    return not others.exists()


def stage_transition(*, actor, level: Level, version: ModelVersion, stage, archive_existing_versions=False, comment="") -> Outcome:
    """MLflow's transition-stage, governed on protected models.

    ``level`` is the caller's level on the model; what it must reach is decided here, under the
    model's lock, so that protecting or unprotecting concurrently cannot be raced.
    """
    stage = canonical_stage(stage)
    if archive_existing_versions and stage not in ACTIVE_STAGES:
        raise invalid(
            "Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
        )
    with transaction.atomic():
        model = services.lock_model(version.registered_model)
        need = needed_level_for_stage(model, version, stage)
        if level < need:
            raise denied(
                f"Permission denied: moving version {version.version} to {stage} needs {need.name} on "
                f"registered model '{model.name}'.",
                target=version, need=need,
            )
        if model.protected and stage == Stage.PRODUCTION and not _already_in_production(version, archive_existing_versions):
            request, created = _open_request(
                actor=actor, version=version, kind=TransitionRequest.Kind.STAGE, to_stage=stage,
                archive=bool(archive_existing_versions), comment=comment,
            )
            return Outcome(version=version, request=request, created=created)
        updated = services.model_version_stage_transition(
            actor=actor, version=version, stage=stage, archive_existing_versions=archive_existing_versions
        )
        return Outcome(version=updated)


def alias_assign(*, actor, version: ModelVersion, alias, comment="") -> Outcome:
    """MLflow's set-alias (the caller holds EDIT), governed for protected aliases of protected models."""
    alias = validate_alias(alias, for_write=True)
    with transaction.atomic():
        model = services.lock_model(version.registered_model)
        if model.is_protected_alias(alias):
            current = RegisteredModelAlias.objects.filter(registered_model=model, alias=alias).first()
            if current is not None and current.model_version_id == version.pk:
                return Outcome(version=version)
            request, created = _open_request(
                actor=actor, version=version, kind=TransitionRequest.Kind.ALIAS, alias=alias, comment=comment
            )
            return Outcome(version=version, request=request, created=created)
        services.alias_set(actor=actor, version=version, alias=alias)
        return Outcome(version=version)


def request_open(*, actor, version: ModelVersion, stage=None, alias=None, archive_existing_versions=False, comment="") -> tuple[TransitionRequest, bool]:
    """Ask for a governed change explicitly (Warden's API), whether or not the model is protected."""
    if (stage is None) == (alias is None):
        raise invalid("A transition request names either a 'stage' or an 'alias'.")
    with transaction.atomic():
        if stage is not None:
            stage = canonical_stage(stage)
            if archive_existing_versions and stage not in ACTIVE_STAGES:
                raise invalid(f"archive_existing_versions is only valid for {list(ACTIVE_STAGES)}.")
            return _open_request(
                actor=actor, version=version, kind=TransitionRequest.Kind.STAGE, to_stage=stage,
                archive=bool(archive_existing_versions), comment=comment,
            )
        alias = validate_alias(alias, for_write=True)
        return _open_request(actor=actor, version=version, kind=TransitionRequest.Kind.ALIAS, alias=alias, comment=comment)


def _locked_pending(request: TransitionRequest) -> TransitionRequest:
    """Lock the model first, then the request: the order every registry write takes."""
    model = services.lock_model(request.registered_model)
    locked = TransitionRequest.objects.select_for_update().filter(pk=request.pk).first()
    if locked is None:
        raise not_found(f"Transition request {request.pk} not found.")
    if locked.status != TransitionRequest.Status.PENDING:
        raise invalid_state(f"Transition request {request.pk} is already {locked.status}.")
    locked.registered_model = model
    return locked


_DECISIONS = {
    TransitionRequest.Status.APPROVED: actions.TRANSITION_REQUEST_APPROVED,
    TransitionRequest.Status.REJECTED: actions.TRANSITION_REQUEST_REJECTED,
    TransitionRequest.Status.CANCELLED: actions.TRANSITION_REQUEST_CANCELLED,
}


def _decide(locked: TransitionRequest, *, actor, status, comment, version: ModelVersion):
    before = locked.status
    locked.status = status
    locked.decided_by = actor
    locked.decided_by_name = services.actor_name(actor)
    locked.decision_comment = _comment(comment)
    locked.decided_timestamp = services.now_ms()
    locked.save(update_fields=["status", "decided_by", "decided_by_name", "decision_comment", "decided_timestamp"])
    facts = _request_facts(locked, version)
    record(_DECISIONS[status], actor=actor, **target_of(locked), changes={"before": {"status": before}, "after": facts})
    events.transition_request(actor=actor, request=locked, action=status)
    return locked


@transaction.atomic
def request_approve(*, actor, request: TransitionRequest, comment="") -> TransitionRequest:
    """Four eyes: the approver (who holds MANAGE, checked by the caller) is not the requester."""
    locked = _locked_pending(request)
    if locked.requested_by_id is not None and actor is not None and locked.requested_by_id == actor.pk:
        raise denied(
            "Four-eyes rule: a transition request must be approved by someone other than its requester.",
            target=locked, need="another approver",
        )
    version = ModelVersion.objects.get(pk=locked.model_version_id)
    if version.deleted:
        raise invalid_state(f"Transition request {locked.pk} names a deleted model version.")
    version.registered_model = locked.registered_model
    if locked.kind == TransitionRequest.Kind.STAGE:
        services.model_version_stage_transition(
            actor=actor, version=version, stage=locked.to_stage, archive_existing_versions=locked.archive_existing_versions
        )
    else:
        services.alias_set(actor=actor, version=version, alias=locked.alias)
    return _decide(locked, actor=actor, status=TransitionRequest.Status.APPROVED, comment=comment, version=version)


@transaction.atomic
def request_reject(*, actor, request: TransitionRequest, comment="") -> TransitionRequest:
    locked = _locked_pending(request)
    return _decide(locked, actor=actor, status=TransitionRequest.Status.REJECTED, comment=comment, version=_version_of(locked))


@transaction.atomic
def request_cancel(*, actor, request: TransitionRequest, comment="") -> TransitionRequest:
    """Only the requester withdraws a request; others reject it."""
    locked = _locked_pending(request)
    if actor is None or locked.requested_by_id != actor.pk:
        raise denied("Only the requester can cancel a transition request; others may reject it.", target=locked, need="requester")
    return _decide(locked, actor=actor, status=TransitionRequest.Status.CANCELLED, comment=comment, version=_version_of(locked))


def _version_of(request: TransitionRequest) -> ModelVersion:
    if TransitionRequest.model_version.is_cached(request):
        return request.model_version
    return ModelVersion.objects.get(pk=request.model_version_id)


@transaction.atomic
def protection_set(*, actor, model: RegisteredModel, protected: bool, protected_aliases=None) -> RegisteredModel:
    """Protect or unprotect a model (MANAGE, checked by the caller); optionally set its protected aliases."""
    if not isinstance(protected, bool):
        raise invalid("'protected' must be a boolean.")
    locked = services.lock_model(model)
    before = {"protected": locked.protected, "protected_aliases": list(locked.protected_aliases or [])}
    fields = ["protected", "last_updated_timestamp"]
    if protected_aliases is not None:
        if not isinstance(protected_aliases, list) or len(protected_aliases) > MAX_PROTECTED_ALIASES:
            raise invalid(f"'protected_aliases' must be a list of at most {MAX_PROTECTED_ALIASES} alias names.")
        locked.protected_aliases = sorted({validate_alias(a, for_write=True) for a in protected_aliases})
        fields.append("protected_aliases")
    locked.protected = protected
    locked.last_updated_timestamp = services.now_ms()
    locked.save(update_fields=fields)
    after = {"protected": locked.protected, "protected_aliases": list(locked.protected_aliases or [])}
    if after != before:
        record(actions.REGISTERED_MODEL_PROTECTION_CHANGED, actor=actor, **target_of(locked), changes={"before": before, "after": after})
    return locked
