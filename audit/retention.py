"""The audit retention purge: the one door through which audit events leave the table.

For a workspace with an audit retention, the purge removes the oldest *sealed* events of its
chain, the contiguous run of sequence numbers whose events are all older than the policy
(unsealed events, and anything after the first event still within the policy, stay). It then
moves the chain's anchor to the last removed event (``anchor_seq``/``anchor_hash``), so
``verify_chain`` checks the surviving chain from there, and records ``audit.purged`` (range of
sequence numbers and times, count, anchor hash) as Warden itself, all in one transaction.

The model refuses deletes and PostgreSQL's trigger refuses them too unless the session opened
the maintenance door: this module opens it with ``SET LOCAL`` (for its own transaction only)
and deletes with raw SQL, which is also the only way round the model's refusal on SQLite.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from accounts.models import Workspace
from audit import actions, context
from audit.models import AuditChain, AuditEvent, AuditRetention
from audit.sealing import chain_filter
from audit.services import record


def _open_maintenance_door(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT set_config('warden.audit_maintenance', 'on', true)")  # SET LOCAL


def _delete_range(cursor, chain_key: int, after_seq: int, through_seq: int) -> int:
    table = AuditEvent._meta.db_table
    chain = "workspace_id = %s" if chain_key else "workspace_id IS NULL"
    params = ([chain_key] if chain_key else []) + [after_seq, through_seq]
    cursor.execute(f"DELETE FROM {table} WHERE {chain} AND seq IS NOT NULL AND seq > %s AND seq <= %s", params)
    return cursor.rowcount


def purge_chain(chain_key: int, keep_days: int, now=None) -> dict | None:
    """Purge one chain's sealed events older than ``keep_days``; returns the purge's summary,
    or None when nothing was old enough."""
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    with transaction.atomic(), context.as_warden():  # the system purges, wherever it was started from
        head = AuditChain.objects.select_for_update().filter(chain_key=chain_key).first()  # sealers wait
        if head is None:
            return None
        sealed = AuditEvent.objects.filter(seq__isnull=False, **chain_filter(chain_key))
        first_kept = sealed.filter(time__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
        boundary = first_kept - 1 if first_kept is not None else head.last_seq
        if boundary <= head.anchor_seq:
            return None
        doomed = sealed.filter(seq__gt=head.anchor_seq, seq__lte=boundary)
        stats = doomed.aggregate(count=Count("id"), first_seq=Min("seq"), first_time=Min("time"), last_time=Max("time"))
        anchor_hash = doomed.filter(seq=boundary).values_list("hash", flat=True).get()
        with connection.cursor() as cursor:
            _open_maintenance_door(cursor)
            removed = _delete_range(cursor, chain_key, head.anchor_seq, boundary)
        AuditChain.objects.filter(pk=head.pk).update(anchor_seq=boundary, anchor_hash=anchor_hash)
        summary = {
            "keep_days": keep_days,
            "cutoff": cutoff.isoformat(),
            "count": removed,
            "first_seq": stats["first_seq"],
            "last_seq": boundary,
            "first_time": stats["first_time"].isoformat(),
            "last_time": stats["last_time"].isoformat(),
            "anchor_hash": anchor_hash,
        }
        workspace = Workspace.objects.filter(pk=chain_key).first() if chain_key else None
        record(actions.AUDIT_PURGED, workspace=workspace, target_type="audit_log", target_id=getattr(workspace, "slug", ""),
               changes=summary)
    return summary


def purge_expired(now=None) -> list[dict]:
    """The daily job: every workspace with an audit retention."""
    results = []
    policies = AuditRetention.objects.filter(keep_days__isnull=False).values_list("workspace_id", "keep_days").order_by("workspace_id")
    for workspace_id, keep_days in policies:
        summary = purge_chain(workspace_id, keep_days, now=now)
        if summary is not None:
            results.append({"workspace_id": workspace_id, **summary})
    return results
