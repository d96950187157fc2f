"""Exports: streamed CSV (formula-safe) and JSONL, the export audited, and background jobs."""

import csv
import hashlib
import io
import json
import time

import pytest

from audit.exports import EXPORT_FIELDS, formula_safe
from audit.models import AuditEvent, AuditExport
from audit.services import record


def streamed(response) -> bytes:
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response.streaming
    return b"".join(response.streaming_content)


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode())))


@pytest.mark.parametrize("text, safe", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
                                         ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("", "")])
def test_formula_safety(text, safe):
    assert formula_safe(text) == safe


def test_csv_export_streams_the_scope_with_a_header_as_an_attachment(rest, root, log):
    response = rest(root).get("audit/events/export", format="csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
    data = streamed(response)
    assert data.splitlines()[0].decode() == ",".join(EXPORT_FIELDS)
    rows = csv_rows(data)
    before = AuditEvent.objects.exclude(action="audit.exported")
    assert [int(row["id"]) for row in rows] == list(before.order_by("id").values_list("id", flat=True))
    [sign_in] = [row for row in rows if row["action"] == "auth.login_failed"]
    assert sign_in["actor_name"] == "'=cmd|' /C calc'!A0"  # neutralised for spreadsheets


def test_jsonl_export_of_one_workspace_is_audited_with_filters_and_count(rest, auditor, log, workspace):
    data = streamed(rest(auditor).get("audit/events/export", format="jsonl", workspace="acme", action="experiment.*"))
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert [line["action"] for line in lines] == ["experiment.created"] * 5 + ["experiment.deleted"]
    assert lines[-1]["changes"]["before"]["lifecycle"] == "active"
    [event] = AuditEvent.objects.filter(action="audit.exported")
    assert event.workspace_id == workspace.pk and event.actor_name == "audrey"
    assert event.changes == {"format": "jsonl", "delivery": "stream", "filters": {"action": "experiment.*", "workspace": "acme"},
                             "rows": 6, "total_rows": 6}


def test_an_export_across_workspaces_is_audited_in_each_of_them(rest, root, log, workspace, other_workspace):
    api = rest(root)
    expected = {key: AuditEvent.objects.filter(workspace_id=key).count() for key in (workspace.pk, other_workspace.pk, None)}
    streamed(api.get("audit/events/export", format="csv"))
    counts = {e.workspace_id: e.changes["rows"] for e in AuditEvent.objects.filter(action="audit.exported")}
    assert counts == expected


def test_an_empty_export_is_still_audited(rest, auditor, log, workspace):
    data = streamed(rest(auditor).get("audit/events/export", format="csv", action="nothing.here"))
    assert len(data.splitlines()) == 1
    [event] = AuditEvent.objects.filter(action="audit.exported")
    assert event.changes["rows"] == 0


def test_export_refusals(rest, auditor, member, log):
    assert rest(auditor).get("audit/events/export", format="xlsx").status_code == 400
    assert rest(auditor).get("audit/events/export", workspace="globex").status_code == 404
    assert rest(member).get("audit/events/export").status_code == 403
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_an_export_job_writes_a_private_file_with_checksum_and_verification(rest, auditor, log, workspace, django_capture_on_commit_callbacks):
    api = rest(auditor, read_only=True)  # asking for an export changes nothing governed
    rows = AuditEvent.objects.filter(workspace=workspace).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("audit/exports", {"format": "csv", "workspace": "acme"})
    assert response.status_code == 202, response.content
    job = api.get(f"audit/exports/{response.json()['id']}").json()
    assert job["status"] == "done" and job["row_count"] == rows
    assert [(c["workspace"], c["ok"]) for c in job["verification"]] == [("acme", True)]
    download = api.get(f"audit/exports/{job['id']}/download")
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == job["sha256"] == download["X-Checksum-SHA256"]
    assert len(csv_rows(data)) == rows
    stored = AuditExport.objects.get(pk=job["id"])
    from audit.exports import job_path

    assert job_path(stored).stat().st_mode & 0o077 == 0
    [event] = AuditEvent.objects.filter(action="audit.exported")
    assert event.changes["delivery"] == "job" and event.changes["rows"] == rows and event.changes["sha256"] == job["sha256"]
    assert [row["id"] for row in api.get("audit/exports").json()] == [job["id"]]
    job_path(stored).unlink()


def test_export_jobs_are_their_requester_s_only(rest, auditor, root, log, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = rest(root).post("audit/exports", {"format": "jsonl", "action": "auth.*"}).json()
    assert rest(auditor).get(f"audit/exports/{job['id']}").status_code == 404
    assert rest(auditor).get(f"audit/exports/{job['id']}/download").status_code == 404
    assert rest(root).get(f"audit/exports/{job['id']}").json()["row_count"] == 1
    from audit.exports import job_path

    job_path(AuditExport.objects.get(pk=job["id"])).unlink()


@pytest.mark.celery_worker
def test_a_real_worker_runs_an_export_job(real_worker, rest, auditor, workspace, member):
    for number in range(30):
        record("run.created", workspace=workspace, actor=member, target_type="run", target_id=str(number))
    api = rest(auditor)
    response = api.post("audit/exports", {"format": "jsonl", "action": "run.*"})
    assert response.status_code == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.get(f"audit/exports/{response.json()['id']}").json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "done", real_worker.log()
    assert job["row_count"] == 30 and job["verification"][0]["workspace"] == "acme"
    data = b"".join(api.get(f"audit/exports/{job['id']}/download").streaming_content)
    assert hashlib.sha256(data).hexdigest() == job["sha256"] and len(data.splitlines()) == 30
    from audit.exports import job_path

    job_path(AuditExport.objects.get(pk=job["id"])).unlink()


@pytest.mark.postgres_only
def test_a_streamed_export_reads_through_a_server_side_cursor(rest, auditor, workspace):
    from django.db import connection

    earlier = AuditEvent.objects.filter(workspace=workspace).count()  # the workspace's creation, the auditor's grant
    AuditEvent.objects.bulk_create(
        [AuditEvent(workspace=workspace, workspace_slug="acme", actor_kind="system", action="run.created", target_id=str(n)) for n in range(1200)]
    )
    response = rest(auditor).get("audit/events/export", format="csv", workspace="acme")
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks)  # the header and the first rows: the query is open, not finished
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable, statement FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        [(holdable, statement)] = cursor.fetchall()
    assert holdable is False and "audit_auditevent" in statement  # a plain cursor in a transaction: no materialised copy
    rest_rows = b"".join(chunks)
    assert rest_rows.count(b"\n") + 500 == 1200 + earlier
    response.close()


def test_a_revoked_auditor_loses_its_export_jobs(rest, auditor, admin, workspace, log, django_capture_on_commit_callbacks):
    from audit import governance
    from audit.exports import job_path, write_job

    job = AuditExport.objects.create(requested_by=auditor, format="csv", filters={}, scope=[workspace.pk])
    governance.auditor_revoke(actor=admin, user=auditor, workspace=workspace)
    done = write_job(job.pk)
    assert done.row_count == 0 and done.verification == []  # the job runs with what its requester audits now
    assert rest(auditor).get(f"audit/exports/{job.pk}").status_code == 404
    job_path(done).unlink()
