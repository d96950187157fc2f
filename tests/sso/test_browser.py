"""In a real browser (headless Chromium): sign in through the provider, create a token on the
page, and log a run with it from the real mlflow client. Screenshots go to test-output/sso/."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import ApiToken, Role
from accounts.sso import mappings
from tests.compat.conftest import clean_mlflow_client, live_server_drained  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, url, username="alice"):
    page.goto(f"{url}/tokens")
    expect(page).to_have_url(re.compile(r"/signin\?next=/tokens$"))
    page.click("#sso")
    expect(page.locator("#idp-signin")).to_be_visible()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-pass")
    page.click("#idp-signin")
    expect(page).to_have_url(f"{url}/tokens")


@pytest.mark.compat
def test_sign_in_create_a_token_and_log_a_run_with_mlflow(
    sso, workspace, page, screenshot, live_server_drained, monkeypatch, settings, tmp_path  # noqa: F811
):
    import mlflow

    from experiments.models import Run

    settings.ARTIFACT_ROOT = str(tmp_path / "artifacts")
    mappings.group_mapping_create(actor=None, workspace=workspace, group="data-science", role=Role.MEMBER)
    page.goto(f"{sso}/signin")
    screenshot("signin")
    _sign_in(page, sso)
    screenshot("tokens-empty")

    page.fill("#new-token input[name=name]", "notebook")
    page.select_option("#new-token select[name=workspace]", "acme")
    page.select_option("#new-token select[name=expires_in]", "30")
    page.click("#new-token button[type=submit]")
    expect(page.locator("#token-created")).to_be_visible()
    secret = page.locator("#token-secret").inner_text().strip()
    lines = page.locator("#token-env").inner_text()
    assert secret.startswith("wdn_") and f"MLFLOW_TRACKING_TOKEN={secret}" in lines and "MLFLOW_WORKSPACE=acme" in lines
    screenshot("token-created")

    monkeypatch.setenv("MLFLOW_TRACKING_URI", sso)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", secret)
    monkeypatch.setenv("MLFLOW_WORKSPACE", "acme")
    mlflow.set_tracking_uri(sso)
    mlflow.set_experiment("from-the-browser")
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_metric("loss", 0.25, step=1)
    logged = Run.objects.select_related("experiment").get(run_uuid=run.info.run_id)
    assert logged.experiment.name == "from-the-browser" and logged.experiment.workspace == workspace
    assert logged.user_id == "alice" and logged.status == "FINISHED"
    token = ApiToken.objects.get(name="notebook")
    assert token.last_used_at is not None and token.user.username == "alice"
    assert mlflow.MlflowClient().get_run(run.info.run_id).data.params == {"lr": "0.01"}

    page.goto(f"{sso}/")
    expect(page.locator("#recent")).to_contain_text("from-the-browser")
    page.goto(f"{sso}/tokens")
    expect(page.locator("tr[data-token=notebook]")).not_to_contain_text("never ago")
    assert secret not in page.content()
    screenshot("tokens-used")


def test_admin_pages_sign_out_and_a_replayed_callback(sso, workspace, page, screenshot):
    from accounts import services
    from accounts.models import GroupMapping

    services.team_create(actor=None, workspace=workspace, name="Platform")
    mappings.group_mapping_create(actor=None, workspace=workspace, group="ml-platform", role=Role.ADMIN)
    callbacks = []
    page.on("request", lambda request: callbacks.append(request.url) if "/oidc/callback/" in request.url else None)
    _sign_in(page, sso)
    page.goto(f"{sso}/")
    page.click("text=Group rules")
    expect(page).to_have_url(f"{sso}/workspaces/acme/group-mappings")
    page.fill("#new-rule input[name=group]", "data-science")
    page.select_option("#new-rule select[name=role]", "member")
    page.select_option("#new-rule select[name=team]", label="Platform")
    page.click("#new-rule button[type=submit]")
    expect(page.locator("#rules")).to_contain_text("Platform")
    assert GroupMapping.objects.filter(group="data-science", team__name="Platform", role="member").exists()
    screenshot("group-rules")

    page.goto(f"{sso}/workspaces/acme/service-accounts")
    page.fill("#new-account input[name=username]", "nightly-job")
    page.click("#new-account button[type=submit]")
    section = page.locator("section[data-account=nightly-job]")
    section.locator("input[name=name]").fill("ci")
    section.locator("button:has-text('Create token')").click()
    expect(page.locator("#token-created")).to_contain_text("nightly-job")
    screenshot("service-account-token")

    page.click("#signout")
    expect(page).to_have_url(f"{sso}/signin")
    page.goto(callbacks[-1])  # the used callback URL again: single-use state
    expect(page.locator("#failure")).to_contain_text("not valid any more")
    screenshot("replayed-callback")
    page.set_viewport_size({"width": 390, "height": 800})  # a phone
    page.goto(f"{sso}/signin")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("signin-phone")
