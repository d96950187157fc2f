"""Writes that govern the audit log: auditor grants, the audit retention, export jobs.

Callers authorise first (the API views: workspace admins for a workspace's auditors and
retention, superusers for global auditors, auditors for exports). Each change is audited in
its own transaction.
"""

from django.db import transaction
from django.utils import timezone

from audit import actions
from audit.access import AuditScope
from audit.models import AuditExport, AuditorGrant, AuditRetention
from audit.services import record
from audit.targets import target_of


class GovernanceError(ValueError):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def _grantee(user, workspace):
    return {"user": user.username, "workspace": workspace.slug if workspace else None}


@transaction.atomic
def auditor_grant(*, actor, user, workspace=None) -> tuple[AuditorGrant, bool]:
    """Make ``user`` an auditor of ``workspace`` (None: of every workspace)."""
    if not user.is_active:
        raise GovernanceError(f"'{user.username}' is not an active user.")
    grant, created = AuditorGrant.objects.get_or_create(user=user, workspace=workspace, defaults={"granted_by": actor})
    if created:
        record(actions.AUDITOR_GRANTED, actor=actor, **target_of(user, workspace=workspace),
               changes={"after": _grantee(user, workspace)})
    return grant, created


@transaction.atomic
def auditor_revoke(*, actor, user, workspace=None) -> None:
    deleted, _ = AuditorGrant.objects.filter(user=user, workspace=workspace).delete()
    if not deleted:
        raise GovernanceError(f"'{user.username}' is not an auditor here.", "not_found")
    record(actions.AUDITOR_REVOKED, actor=actor, **target_of(user, workspace=workspace),
           changes={"before": _grantee(user, workspace)})


def auditors_of(workspace=None):
    return AuditorGrant.objects.filter(workspace=workspace).select_related("user", "granted_by").order_by("user__username")


def retention_of(workspace) -> int | None:
    return AuditRetention.objects.filter(workspace=workspace).values_list("keep_days", flat=True).first()


@transaction.atomic
def retention_set(*, actor, workspace, keep_days: int | None) -> int | None:
    """Keep the workspace's sealed audit events ``keep_days`` days (None: forever)."""
    if keep_days is not None and keep_days < 1:
        raise GovernanceError("'keep_days' must be at least 1, or null to keep events forever.")
    row = AuditRetention.objects.select_for_update().filter(workspace=workspace).first()
    before = row.keep_days if row else None
    if row is None:
        AuditRetention.objects.create(workspace=workspace, keep_days=keep_days, updated_by=actor)
    else:
        AuditRetention.objects.filter(pk=row.pk).update(keep_days=keep_days, updated_by=actor, updated_at=timezone.now())
    if before != keep_days:
        record(actions.AUDIT_RETENTION_CHANGED, actor=actor, **target_of(workspace),
               changes={"before": {"keep_days": before}, "after": {"keep_days": keep_days}})
    return keep_days


@transaction.atomic
def export_request(*, actor, scope: AuditScope, fmt: str, filters: dict) -> AuditExport:
    """Queue a background export of what ``scope`` lets the requester read; the job keeps the scope."""
    from audit import tasks

    job = AuditExport.objects.create(requested_by=actor, format=fmt, filters=filters, scope=scope.as_json())
    transaction.on_commit(lambda: tasks.run_export.delay(job.pk))
    return job
