"""Reads of the audit log, always inside the caller's audit scope (``audit.access``).

``events_matching`` turns the filters of the API, the pages and export jobs into one SQL query;
the scope is part of its WHERE clause, never a post-filter.
"""

from django.db.models import Q

from audit.access import AuditScope, audited_workspace, require_auditor, scope_of
from audit.models import AuditEvent, AuditExport

FILTER_NAMES = ("since", "until", "actor", "action", "target_type", "target_id", "outcome", "workspace")


def events_matching(scope: AuditScope, filters: dict, workspace=None):
    """Events in scope matching ``filters`` (validated: datetimes, strings); ``workspace`` is the
    already-authorised workspace the ``workspace`` filter named."""
    rows = scope.events()
    if workspace is not None:
        rows = rows.filter(workspace_id=workspace.pk)
    if filters.get("since"):
        rows = rows.filter(time__gte=filters["since"])
    if filters.get("until"):
        rows = rows.filter(time__lt=filters["until"])
    actor = filters.get("actor")
    if actor:
        by_id = actor.isascii() and actor.isdigit() and len(actor) <= 18  # a user id (ASCII digits) fits a bigint
        rows = rows.filter(Q(actor_name=actor) | Q(actor_id=int(actor)) if by_id else Q(actor_name=actor))
    action = filters.get("action")
    if action:
        rows = rows.filter(action__startswith=action[:-1]) if action.endswith(".*") else rows.filter(action=action)
    for name in ("target_type", "target_id", "outcome"):
        if filters.get(name):
            rows = rows.filter(**{name: filters[name]})
    return rows


def audited_events(principal, filters: dict):
    """(scope, workspace, events) for a caller's validated filters; raises ``NotAuditable``
    (404 for an invisible workspace, 403 for a visible one or for a caller who audits nothing)."""
    scope = scope_of(principal)
    workspace = audited_workspace(principal, scope, filters["workspace"]) if filters.get("workspace") else None
    if workspace is None:
        require_auditor(scope)
    return scope, workspace, events_matching(scope, filters, workspace)


def event_in_scope(scope: AuditScope, event_id: int) -> AuditEvent | None:
    return scope.events().filter(pk=event_id).first()


def filters_as_json(filters: dict) -> dict:
    """The filters as an export records them (datetimes as ISO text, empty ones left out)."""
    out = {}
    for name in FILTER_NAMES:
        value = filters.get(name)
        if value in (None, ""):
            continue
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def chain_reports(scope: AuditScope, workspace=None) -> list[dict]:
    """``verify_chain`` of every chain in scope (or of one audited workspace), with its slug."""
    from accounts.models import Workspace
    from audit.verification import chain_keys, verify_chain

    if workspace is not None:
        keys = [workspace.pk]
    elif scope.is_global:
        keys = chain_keys()
    else:
        keys = sorted(scope.workspace_ids)
    slugs = dict(Workspace.objects.filter(pk__in=keys).values_list("pk", "slug"))
    return [{**verify_chain(key).as_dict(), "workspace": slugs.get(key, "")} for key in keys]


def audited_slugs(principal) -> list[str] | None:
    """Slugs of the workspaces ``principal`` audits, sorted; None for a global auditor."""
    from accounts.models import Workspace

    scope = scope_of(principal)
    if scope.is_global:
        return None
    if scope.empty:
        return []
    return list(Workspace.objects.filter(pk__in=scope.workspace_ids).order_by("slug").values_list("slug", flat=True))


def export_jobs_of(user):
    """The export jobs ``user`` asked for, newest first (nobody sees another's jobs)."""
    return AuditExport.objects.filter(requested_by=user).select_related("requested_by").order_by("-created_at", "-id")
