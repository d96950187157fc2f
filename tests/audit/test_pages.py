"""The auditor pages: the log with filters and pages, one event's diff, exports from the page."""

import json

import pytest

from audit.models import AuditEvent, AuditExport


@pytest.fixture
def browser(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_the_log_page_lists_the_audited_workspace_with_filters(browser, auditor, log):
    page = browser(auditor).get("/audit/", {"action": "experiment.*"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>Audit log · Warden</title>" in html and 'href="/static/warden/warden.css"' in html
    assert html.count("<code>experiment.created</code>") == 5 and "experiment.deleted" in html
    assert "globex" not in html and "login_failed" not in html
    assert 'value="experiment.*"' in html  # the form keeps its filters
    assert 'href="/audit/export?action=experiment.%2A&amp;format=csv"' in html


def test_the_log_page_pages_with_a_cursor(browser, auditor, log, workspace, monkeypatch):
    monkeypatch.setattr("audit.views.PAGE_SIZE", 3)
    client = browser(auditor)
    page = client.get("/audit/")
    seen = [e.pk for e in page.context["events"]]
    while page.context["next_url"]:
        page = client.get("/audit/" + page.context["next_url"])
        seen += [e.pk for e in page.context["events"]]
    assert seen == list(AuditEvent.objects.filter(workspace=workspace).order_by("-id").values_list("id", flat=True))


def test_bad_filters_are_shown_not_raised(browser, auditor, log):
    page = browser(auditor).get("/audit/", {"since": "soon"})
    assert page.status_code == 400 and "since:" in page.content.decode()


def test_the_event_page_shows_the_change_as_a_diff_table(browser, auditor, log):
    event = AuditEvent.objects.get(action="experiment.deleted")
    page = browser(auditor).get(f"/audit/events/{event.pk}")
    assert page.status_code == 200
    assert page.context["diff"] == [
        {"field": "lifecycle", "before": "active", "after": "deleted", "changed": True},
        {"field": "name", "before": "three", "after": "three", "changed": False},
    ]
    html = page.content.decode()
    assert '<tr class="changed">' in html and event.hash in html


def test_non_auditors_cannot_see_the_pages(browser, client, member, auditor, log):
    assert client.get("/audit/").status_code == 302  # anonymous: sign in first
    other = AuditEvent.objects.filter(workspace__slug="globex").first()
    mine = AuditEvent.objects.get(action="experiment.deleted")
    viewer = browser(member)
    assert viewer.get("/audit/").status_code == 403
    assert viewer.get("/audit/", {"workspace": "acme"}).status_code == 403
    assert viewer.get("/audit/", {"workspace": "globex"}).status_code == 404
    assert viewer.get(f"/audit/events/{mine.pk}").status_code == 404
    assert viewer.get("/audit/export").status_code == 403
    assert viewer.get("/audit/jobs").status_code == 403
    assert browser(auditor).get(f"/audit/events/{other.pk}").status_code == 404


def test_the_export_button_streams_the_same_rows_as_the_api(browser, rest, auditor, log):
    api_rows = b"".join(rest(auditor).get("audit/events/export", format="jsonl", action="experiment.*").streaming_content)
    page = browser(auditor).get("/audit/export", {"format": "jsonl", "action": "experiment.*"})
    assert page["Content-Disposition"].startswith("attachment;")
    page_rows = b"".join(page.streaming_content)
    assert [json.loads(line)["id"] for line in page_rows.splitlines()] == [json.loads(line)["id"] for line in api_rows.splitlines()]
    exported = AuditEvent.objects.filter(action="audit.exported").order_by("id")
    assert [(e.actor_name, e.changes["rows"]) for e in exported] == [("audrey", 6), ("audrey", 6)]


def test_export_as_job_from_the_page(browser, auditor, log, django_capture_on_commit_callbacks):
    client = browser(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/audit/jobs", {"format": "csv", "action": "experiment.*"})
    assert response.status_code == 302
    job = AuditExport.objects.get()
    page = client.get("/audit/jobs")
    html = page.content.decode()
    assert f'id="job-{job.pk}"' in html and job.sha256 in html and "acme: verified" in html
    download = client.get(f"/audit/jobs/{job.pk}/download")
    assert download.status_code == 200 and len(b"".join(download.streaming_content).splitlines()) == 1 + 6
    from audit.exports import job_path

    job_path(job).unlink()


def test_home_shows_auditors_the_way_to_the_log(browser, auditor, member, root):
    assert "You audit <code>acme</code>." in browser(auditor).get("/").content.decode()
    assert "every workspace" in browser(root).get("/").content.decode()
    assert 'id="auditing"' not in browser(member).get("/").content.decode()
