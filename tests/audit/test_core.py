"""The audit log's core: one writer, same-transaction events, sealing, the chain, the trigger."""

import pytest
from django.db import connection, transaction

from audit import context
from audit.models import ActorKind, AppendOnlyError, AuditEvent
from audit.sealing import seal_chain
from audit.services import record
from audit.verification import verify_chain


@pytest.fixture
def events_of(workspace):
    """Events of the workspace written by the test itself (not by creating the fixtures)."""
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def events(action=None):
        rows = AuditEvent.objects.filter(workspace=workspace, pk__gt=before)
        return list(rows.filter(action=action) if action else rows)

    return events


def test_record_names_the_actor_the_target_and_the_request(db, workspace, member, events_of):
    ctx = context.AuditContext(source_ip="10.1.2.3", user_agent="mlflow-python-client/3.17.2", client_version="3.17.2", request_id="req-1")
    with context.bound(ctx):
        record("workspace.renamed", workspace=workspace, actor=member, target=workspace, changes={"before": {"name": "A"}, "after": {"name": "B"}})
    [event] = events_of("workspace.renamed")
    assert (event.actor_id, event.actor_name, event.actor_kind) == (member.pk, "mia", ActorKind.USER)
    assert (event.target_type, event.target_id, event.target_name) == ("workspace", str(workspace.pk), "Acme")
    assert (event.source_ip, event.client_version, event.request_id) == ("10.1.2.3", "3.17.2", "req-1")
    assert event.workspace_slug == "acme" and event.outcome == "success"


def test_without_a_request_the_actor_is_warden(db, workspace, events_of):
    record("retention.purged", workspace=workspace, target_type="run", target_id="r1")
    [event] = events_of("retention.purged")
    assert (event.actor_id, event.actor_name, event.actor_kind) == (None, "warden", ActorKind.SYSTEM)


def test_secrets_are_redacted(db, workspace, events_of):
    record("token.created", workspace=workspace, changes={"after": {"name": "ci", "token_plaintext": "wdn_x_y", "client_secret": "s"}})
    [event] = events_of("token.created")
    assert event.changes == {"after": {"name": "ci", "token_plaintext": "[redacted]", "client_secret": "[redacted]"}}


def test_a_rolled_back_change_leaves_no_event(db, workspace, events_of):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            record("experiment.deleted", workspace=workspace, target_type="experiment", target_id="1")
            raise RuntimeError("the change failed")
    assert events_of() == []


def test_the_model_refuses_updates_and_deletes(db, workspace):
    event = record("experiment.created", workspace=workspace, target_type="experiment", target_id="1")
    event.action = "experiment.deleted"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_sealing_chains_events_in_order_and_verifies(db, workspace, other_workspace):
    seal_chain(other_workspace.pk)
    existing = AuditEvent.objects.filter(workspace=workspace).count()  # workspace.created
    for number in range(5):
        record("experiment.created", workspace=workspace, target_type="experiment", target_id=str(number))
    record("experiment.created", workspace=other_workspace, target_type="experiment", target_id="x")
    assert seal_chain(workspace.pk) == existing + 5
    assert seal_chain(workspace.pk) == 0  # idempotent
    rows = list(AuditEvent.objects.filter(workspace=workspace).order_by("seq"))
    assert [row.seq for row in rows] == list(range(1, existing + 6))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    report = verify_chain(workspace.pk)
    assert report.ok and report.checked == existing + 5 and report.unsealed == 0
    assert verify_chain(other_workspace.pk).unsealed == 1  # each workspace has its own chain


@pytest.mark.postgres_only
def test_the_trigger_refuses_tampering_by_direct_sql(db, workspace):
    event = record("experiment.deleted", workspace=workspace, target_type="experiment", target_id="1")
    seal_chain(workspace.pk)
    statements = [
        ("UPDATE audit_auditevent SET action = 'experiment.created' WHERE id = %s", [event.pk]),
        ("UPDATE audit_auditevent SET hash = 'f00' WHERE id = %s", [event.pk]),
        ("DELETE FROM audit_auditevent WHERE id = %s", [event.pk]),
        ("TRUNCATE audit_auditevent", []),
    ]
    for sql, params in statements:
        with pytest.raises(Exception, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL warden.audit_maintenance = 'off'")
                cursor.execute(sql, params)
    assert AuditEvent.objects.get(pk=event.pk).action == "experiment.deleted"


@pytest.mark.postgres_only
def test_an_unsealed_row_may_only_gain_its_seal(db, workspace):
    event = record("experiment.deleted", workspace=workspace, target_type="experiment", target_id="1")
    with pytest.raises(Exception, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET seq = 1, hash = 'x', action = 'forged' WHERE id = %s", [event.pk])


@pytest.mark.postgres_only
def test_a_forged_row_is_caught_by_verification(db, workspace):
    for number in range(3):
        record("experiment.created", workspace=workspace, target_type="experiment", target_id=str(number))
    seal_chain(workspace.pk)
    last = AuditEvent.objects.filter(workspace=workspace).order_by("-seq").first()
    with connection.cursor() as cursor:  # a forger inserts a row that looks sealed
        cursor.execute(
            "INSERT INTO audit_auditevent (time, workspace_id, workspace_slug, actor_name, actor_kind, auth_method, user_agent,"
            " client_version, request_id, action, target_type, target_id, target_name, changes, outcome, error_code, seq, prev_hash, hash)"
            " VALUES (now(), %s, 'acme', 'mallory', 'user', '', '', '', '', 'experiment.restored', 'experiment', '9', '', '{}', 'success', '',"
            " %s, %s, %s)",
            [workspace.pk, last.seq + 1, last.hash, "0" * 64],
        )
    report = verify_chain(workspace.pk)
    assert not report.ok and report.first_broken_seq == last.seq + 1
