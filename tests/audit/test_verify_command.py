"""``manage.py audit_verify``: every chain's result; a forged row fails it, naming the link."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent


def run(*args) -> str:
    out = io.StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def test_intact_chains_verify(log, workspace):
    out = run()
    assert out.count("OK ") == 3 and "3 audit chain(s) verified." in out
    sealed = AuditEvent.objects.filter(workspace=workspace, seq__isnull=False).count()
    assert f"workspace acme): {sealed} sealed" in run("--workspace", "acme")


def test_an_unknown_workspace_is_an_error(db):
    with pytest.raises(CommandError, match="No workspace 'nowhere'"):
        run("--workspace", "nowhere")


@pytest.mark.postgres_only
def test_a_row_forged_by_direct_sql_fails_the_command_naming_the_first_broken_link(log, workspace):
    target = AuditEvent.objects.filter(workspace=workspace).order_by("seq")[2]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL warden.audit_maintenance = 'off'")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER warden_audit_no_update_delete")  # the forger owns the table
        cursor.execute("UPDATE audit_auditevent SET actor_name = 'mallory' WHERE id = %s", [target.pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER warden_audit_no_update_delete")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 1 audit chain"):
        call_command("audit_verify", "--workspace", "acme", stdout=out)
    assert f"first broken link at seq {target.seq}, event id {target.pk}: hash does not match" in out.getvalue()
    with pytest.raises(CommandError, match="1 of 3"):
        run()


@pytest.mark.postgres_only
def test_an_inserted_forgery_is_named_by_seq_and_id(log, workspace):
    last = AuditEvent.objects.filter(workspace=workspace).order_by("-seq").first()
    with connection.cursor() as cursor:  # INSERT is allowed: the forger makes a row that looks sealed
        cursor.execute(
            "INSERT INTO audit_auditevent (time, workspace_id, workspace_slug, actor_name, actor_kind, auth_method, user_agent,"
            " client_version, request_id, action, target_type, target_id, target_name, changes, outcome, error_code, seq,"
            " prev_hash, hash) VALUES (now(), %s, 'acme', 'mallory', 'user', '', '', '', '', 'experiment.restored', 'experiment',"
            " '9', '', '{}', 'success', '', %s, %s, %s) RETURNING id",
            [workspace.pk, last.seq + 1, last.hash, "0" * 64],
        )
        forged_id = cursor.fetchone()[0]
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", stdout=out)
    assert f"BROKEN  chain {workspace.pk} (workspace acme): first broken link at seq {last.seq + 1}, event id {forged_id}" in out.getvalue()
    assert out.getvalue().count("OK ") == 2  # the other chains are fine
