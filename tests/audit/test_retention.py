"""The retention purge: old sealed events go, the chain verifies from its new anchor, the purge
is itself an event, and nothing else ever deletes audit rows."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import governance
from audit.models import AuditChain, AuditEvent
from audit.retention import purge_expired
from audit.sealing import seal_chain
from audit.services import record
from audit.verification import verify_chain

NOW = timezone.now()


def event_at(workspace, days_ago: float, number: int):
    event = record("experiment.created", workspace=workspace, target_type="experiment", target_id=str(number))
    backdate(event, days_ago)
    return event.pk


def backdate(event, days_ago: float):
    with connection.cursor() as cursor:  # back-date an unsealed row (sealing then chains the real time)
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('warden.audit_maintenance', 'on', true)")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER warden_audit_no_update_delete")
        cursor.execute("UPDATE audit_auditevent SET time = %s WHERE id = %s", [NOW - timedelta(days=days_ago), event.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER warden_audit_no_update_delete")


@pytest.fixture
def aged(workspace, other_workspace, admin):
    """acme: 4 events 100+ days old, 2 recent, sealed; then one old but unsealed. globex: old, no policy.
    What the fixtures wrote before (the workspaces' creation, memberships) is older still."""
    for earlier in AuditEvent.objects.filter(workspace__in=[workspace, other_workspace], seq__isnull=True):
        backdate(earlier, 400)
    old = [event_at(workspace, 100 + n, n) for n in range(4)]
    recent = [event_at(workspace, 1, 10 + n) for n in range(2)]
    governance.retention_set(actor=admin, workspace=workspace, keep_days=30)
    event_at(other_workspace, 200, 99)
    seal_chain(workspace.pk)
    seal_chain(other_workspace.pk)
    unsealed = event_at(workspace, 300, 50)
    return {"old": old, "recent": recent, "unsealed": unsealed}


def test_the_purge_removes_only_old_sealed_events_and_the_chain_still_verifies(aged, workspace, other_workspace):
    before = AuditEvent.objects.filter(workspace=workspace, seq__isnull=False).order_by("seq")
    sealed = list(before.values_list("id", "seq", "hash"))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # close the door the test suite opens: the purge opens its own
            cursor.execute("SET LOCAL warden.audit_maintenance = 'off'")
    others = AuditEvent.objects.filter(workspace=other_workspace).count()
    [result] = purge_expired(now=NOW)
    survivors = set(AuditEvent.objects.filter(workspace=workspace).values_list("id", flat=True))
    assert not survivors & set(aged["old"])
    assert set(aged["recent"]) <= survivors and aged["unsealed"] in survivors
    assert AuditEvent.objects.filter(workspace=other_workspace).count() == others  # no policy: kept forever
    # the retention_changed event (sealed, recent) is after the old ones and stays too
    last_removed = [row for row in sealed if row[0] in aged["old"]][-1]
    head = AuditChain.objects.get(chain_key=workspace.pk)
    assert (head.anchor_seq, head.anchor_hash) == (last_removed[1], last_removed[2])
    removed = last_removed[1]  # the old events and, before them, the fixtures' even older ones
    assert result["count"] == removed and (result["first_seq"], result["last_seq"]) == (1, removed) and result["anchor_hash"] == last_removed[2]
    [purged] = AuditEvent.objects.filter(action="audit.purged")
    assert purged.workspace_id == workspace.pk and purged.actor_kind == "system" and purged.actor_name == "warden"
    assert purged.changes["count"] == removed and purged.changes["anchor_hash"] == head.anchor_hash
    seal_chain(workspace.pk)
    report = verify_chain(workspace.pk)
    assert report.ok and report.checked == 2 + 1 + 1 + 1, report  # recent, retention_changed, unsealed, purged
    assert purge_expired(now=NOW) == []  # nothing left to purge: idempotent


def test_recent_policy_keeps_everything(aged, workspace, admin):
    governance.retention_set(actor=admin, workspace=workspace, keep_days=1000)
    assert purge_expired(now=NOW) == []
    assert not AuditEvent.objects.filter(action="audit.purged").exists()


def test_the_daily_purge_is_in_the_beat_schedule():
    assert {"task": "audit.purge_expired", "schedule": 86400.0} in settings.CELERY_BEAT_SCHEDULE.values()


@pytest.mark.postgres_only
def test_without_the_door_the_trigger_refuses_a_purge_like_delete(aged, workspace):
    with pytest.raises(Exception, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL warden.audit_maintenance = 'off'")
            cursor.execute("DELETE FROM audit_auditevent WHERE workspace_id = %s AND seq <= 2", [workspace.pk])
