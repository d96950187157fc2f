"""Writes of the audit log. ``record`` is its only writer.

Services call ``record`` inside the transaction of the change they make, so a change never
lands without its event and a rolled-back change leaves none. Recording is one INSERT; the
chain (sequence number and hash) is added after commit by ``audit.sealing``.
"""

from django.db import transaction

from audit import context
from audit.models import ActorKind, AuditEvent, Outcome
from audit.redaction import redact

_TEXT_LIMITS = {"target_name": 500, "target_id": 64, "actor_name": 150, "error_code": 64}


def _actor_fields(actor, ctx) -> dict:
    """Name the actor: the explicit user, else the request's principal, else Warden itself."""
    principal = ctx.principal
    user = actor if actor is not None else getattr(principal, "user", None)
    if user is None:
        kind = ActorKind.ANONYMOUS if ctx.request_id and not ctx.extra.get(context.SYSTEM) else ActorKind.SYSTEM
        return {"actor": None, "actor_name": "" if kind == ActorKind.ANONYMOUS else "warden", "actor_kind": kind}
    acting_as_principal = principal is not None and getattr(principal, "user", None) is not None and principal.user.pk == user.pk
    token = getattr(principal, "token", None) if acting_as_principal else None
    if getattr(user, "is_service_account", False):
        kind = ActorKind.SERVICE
    elif token is not None:
        kind = ActorKind.TOKEN
    else:
        kind = ActorKind.USER
    return {
        "actor": user if user.pk else None,
        "actor_name": user.get_username(),
        "actor_kind": kind,
        "token_id": token.pk if token is not None else None,
        "auth_method": getattr(principal, "auth_method", "") if acting_as_principal else "",
    }


def _target_fields(target, target_type, target_id, target_name) -> dict:
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target_id if target_id is not None else target.pk
        target_name = target_name if target_name is not None else str(getattr(target, "name", "") or "")
    return {
        "target_type": target_type or "",
        "target_id": "" if target_id is None else str(target_id),
        "target_name": target_name or "",
    }


def record(
    action: str,
    *,
    workspace=None,
    actor=None,
    target=None,
    target_type: str | None = None,
    target_id=None,
    target_name: str | None = None,
    changes: dict | None = None,
    outcome: str = Outcome.SUCCESS,
    error_code: str = "",
    auth_method: str | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Append one event. ``changes`` is ``{"before": {...}, "after": {...}}`` or free detail;
    secrets in it are redacted. Denied and failed actions pass ``outcome``."""
    ctx = context.current()
    if ctx.extra.get(context.CAUSE):
        changes = {**(changes or {}), "cause": ctx.extra[context.CAUSE]}
    fields = {
        **_actor_fields(actor, ctx),
        **_target_fields(target, target_type, target_id, target_name),
    }
    if auth_method is not None:
        fields["auth_method"] = auth_method
    if actor_name is not None and fields["actor"] is None:
        fields["actor_name"] = actor_name  # e.g. the username a failed sign-in tried
    for name, limit in _TEXT_LIMITS.items():
        if name in fields and isinstance(fields[name], str):
            fields[name] = fields[name][:limit]
    event = AuditEvent.objects.create(
        workspace=workspace,
        workspace_slug=getattr(workspace, "slug", "") or "",
        source_ip=ctx.source_ip,
        user_agent=ctx.user_agent,
        client_version=ctx.client_version,
        request_id=ctx.request_id,
        action=action,
        changes=redact(changes or {}),
        outcome=outcome,
        error_code=error_code[:64],
        **fields,
    )
    _seal_after_commit(event.workspace_id)
    return event


class _SealAfterCommit:
    """One after-commit callback per transaction, sealing every chain the transaction wrote to."""

    def __init__(self, chain_key: int):
        self.chains = {chain_key}

    def __call__(self):
        from audit import tasks

        for chain_key in sorted(self.chains):
            tasks.seal_chain_soon(chain_key)


def _seal_after_commit(workspace_id) -> None:
    chain_key = workspace_id or 0
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _, callback, _ in connection.run_on_commit:  # rolled-back savepoints' callbacks are gone
            if isinstance(callback, _SealAfterCommit):
                callback.chains.add(chain_key)
                return
    transaction.on_commit(_SealAfterCommit(chain_key))
