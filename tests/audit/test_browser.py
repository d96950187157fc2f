"""In a real browser (headless Chromium, JavaScript off): an auditor signs in with a password,
filters the log, reads one change, and exports the range as a download and as a background job;
the files hold the same rows as the API's export of that filter. A member of the workspace gets
no audit data. Screenshots go to test-output/audit/."""

import csv
import hashlib
import io
import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent, AuditExport
from audit.sealing import seal_all
from audit.services import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
RANGE = {"action": "experiment.*", "since": "2026-03-02T00:00", "until": "2026-03-03T00:00"}


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def history(workspace, other_workspace, member, monkeypatch):
    """Events on three days of March; six fall in RANGE's days, three of them match its action
    in "acme". The events are written through ``record`` with the clock set to each moment."""
    moment = {}
    with monkeypatch.context() as clock:
        clock.setattr(AuditEvent._meta.get_field("time"), "_get_default", lambda: moment["now"])

        def at(when, action, **fields):
            moment["now"] = when
            return record(action, actor=member, target_type="experiment", **fields)

        at(_at(1, 9), "experiment.created", workspace=workspace, target_id="1", target_name="churn")
        at(_at(2, 9), "experiment.created", workspace=workspace, target_id="2", target_name="fraud")
        at(_at(2, 10), "experiment.updated", workspace=workspace, target_id="1", target_name="churn-v2",
           changes={"before": {"name": "churn", "tags": {"team": "ds"}}, "after": {"name": "churn-v2", "tags": {"team": "ds"}}})
        at(_at(2, 11), "grant.changed", workspace=workspace, target_id="1", outcome="denied")
        at(_at(2, 12), "experiment.created", workspace=other_workspace, target_id="9", target_name="globex-secret")
        at(_at(2, 23), "experiment.deleted", workspace=workspace, target_id="2", target_name="fraud",
           changes={"before": {"lifecycle": "active"}, "after": {"lifecycle": "deleted"}})
        at(_at(3, 0), "experiment.deleted", workspace=workspace, target_id="1", target_name="churn-v2")
    seal_all()
    expected = AuditEvent.objects.filter(workspace=workspace, action__startswith="experiment.",
                                         time__gte=_at(2, 0), time__lt=_at(3, 0)).order_by("-id")
    return list(expected.values_list("id", flat=True))


@pytest.fixture
def sign_in(page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def go(user, path="/audit/"):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        page.goto(f"{live_server.url}{path}")
        expect(page).to_have_url(re.compile(r"/signin\?next="))
        page.fill("#local-signin input[name=username]", user.username)
        page.fill("#local-signin input[name=password]", PASSWORD)
        page.click("#local-signin button[type=submit]")
        expect(page).to_have_url(f"{live_server.url}{path}")

    return go


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def _fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser_context_args(java_script_enabled=False)  # the pages are plain HTML forms and links
def test_an_auditor_filters_reads_and_exports_a_range(
    auditor, history, sign_in, page, screenshot, rest, live_server, settings, tmp_path
):
    settings.WARDEN_AUDIT_EXPORT_DIR = str(tmp_path / "exports")
    page.set_content("<p id=js></p><script>document.getElementById('js').textContent = 'on'</script>")
    expect(page.locator("#js")).to_have_text("")  # JavaScript is off for the whole test
    api = b"".join(rest(auditor).get("audit/events/export", format="csv", **RANGE).streaming_content)
    api_rows = _csv_rows(api)
    assert len(api_rows) == 1 + len(history) == 4

    sign_in(auditor, "/")  # not a member of anything: home shows the way to the log
    expect(page.locator("#auditing")).to_contain_text("You audit acme.")
    page.get_by_role("link", name="Open the audit log").click()
    expect(page).to_have_url(f"{live_server.url}/audit/")
    page.fill("form.filters input[name=action]", RANGE["action"])
    page.fill("form.filters input[name=since]", RANGE["since"])
    page.fill("form.filters input[name=until]", RANGE["until"])
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"/audit/\?.*action=experiment\.\*&"))
    rows = page.locator("table.events tbody tr")
    expect(rows).to_have_count(3)
    links = rows.locator("td:first-child a")
    assert [int(href.rsplit("/", 1)[1]) for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))")] == history
    listed = page.locator("table.events").inner_text()
    assert "globex" not in listed and "grant.changed" not in listed and "2026-03-01" not in listed and "2026-03-03" not in listed
    expect(page.locator("form.filters input[name=since]")).to_have_value(RANGE["since"])  # the form keeps its filters
    screenshot("log-filtered")

    page.set_viewport_size({"width": 390, "height": 800})  # a phone: only the table scrolls, not the page
    assert _fits(page, 390)
    screenshot("log-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    rows.filter(has_text="experiment.updated").locator("td:first-child a").click()
    expect(page).to_have_url(re.compile(r"/audit/events/\d+$"))
    expect(page.locator("h1")).to_contain_text("experiment.updated")
    changed = page.locator("table.diff tr.changed")
    expect(changed).to_have_count(1)
    expect(changed.locator("th")).to_have_text("name")
    expect(changed.locator("td.before")).to_have_text("churn")
    expect(changed.locator("td.after")).to_have_text("churn-v2")
    expect(page.locator("table.diff tr:not(.changed) td.after")).to_have_text('{"team": "ds"}')
    screenshot("event-detail")
    page.set_viewport_size({"width": 390, "height": 800})
    assert _fits(page, 390)
    screenshot("event-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.go_back()

    with page.expect_download() as csv_download:
        page.locator(".toolbar").get_by_role("link", name="CSV", exact=True).click()
    download = csv_download.value
    assert download.suggested_filename.endswith(".csv")
    assert _csv_rows(open(download.path(), "rb").read()) == api_rows

    page.locator(".toolbar select[name=format]").select_option("csv")
    page.get_by_role("button", name="Export as job").click()
    job = AuditExport.objects.get()
    expect(page).to_have_url(f"{live_server.url}/audit/jobs#job-{job.pk}")
    row = page.locator(f"#job-{job.pk}")
    expect(row).to_contain_text("done")
    expect(row).to_contain_text("acme: verified")
    screenshot("export-jobs")
    with page.expect_download() as job_download:
        row.get_by_role("link", name="Download").click()
    data = open(job_download.value.path(), "rb").read()
    assert _csv_rows(data) == api_rows
    assert hashlib.sha256(data).hexdigest() == row.locator("code.hash").inner_text().strip() == AuditExport.objects.get().sha256
    exported = AuditEvent.objects.filter(action="audit.exported").order_by("id")
    assert [(event.actor_name, event.changes["rows"]) for event in exported] == [("audrey", 3)] * 3


def test_a_member_gets_no_audit_data_from_the_pages(member, auditor, history, sign_in, page, live_server):
    sign_in(member, "/")
    base = live_server.url
    expect(page.locator("#workspaces")).to_contain_text("acme")
    expect(page.locator("#auditing")).to_have_count(0)
    assert page.goto(f"{base}/audit/").status == 403
    assert page.goto(f"{base}/audit/?workspace=acme&action=experiment.*").status == 403
    assert page.goto(f"{base}/audit/?workspace=globex").status == 404
    assert page.goto(f"{base}/audit/events/{history[0]}").status == 404
    assert page.goto(f"{base}/audit/export?format=csv&workspace=acme").status == 403
    assert page.goto(f"{base}/audit/jobs").status == 403
    page.goto(f"{base}/audit/")
    body = page.content()
    assert "experiment.created" not in body and "fraud" not in body and "churn" not in body
    assert not AuditExport.objects.exists()
    assert not AuditEvent.objects.filter(action="audit.exported").exists()
