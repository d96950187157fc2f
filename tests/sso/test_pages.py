"""The pages with the Django test client: tokens, service accounts, group rules (and their API)."""

import json
import re

import pytest

from accounts import services
from accounts.models import ApiToken, GroupMapping, Role
from audit.models import AuditEvent


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in


def test_home_lists_my_workspaces_and_recent_experiments(signed_in, make_user, workspace, other_workspace, api):
    from accounts.models import User

    assert api.post("experiments/create", {"name": "churn-model"}).status_code == 200  # as "mia", a member of acme
    page = signed_in(User.objects.get(username="mia")).get("/").content.decode()
    assert "acme" in page and "globex" not in page
    assert "churn-model" in page


def test_home_shows_admin_links_only_to_admins(signed_in, make_user, workspace):
    admin = make_user("ada", workspace, Role.ADMIN)
    viewer = make_user("val", workspace, Role.VIEWER)
    assert "/workspaces/acme/service-accounts" in signed_in(admin).get("/").content.decode()
    assert "/workspaces/acme/service-accounts" not in signed_in(viewer).get("/").content.decode()


def _csrf_client(client):
    client.handler.enforce_csrf_checks = True
    page = client.get("/tokens").content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_create_a_token_shows_the_secret_once_with_the_client_lines(signed_in, member, workspace):
    client = signed_in(member)
    token = _csrf_client(client)
    response = client.post(
        "/tokens", {"csrfmiddlewaretoken": token, "name": "laptop", "workspace": "acme", "scope": "read", "expires_in": "30"}
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    secret = re.search(r'id="token-secret" class="secret">(wdn_[^<]+)<', page).group(1)
    assert f"export MLFLOW_TRACKING_TOKEN={secret}" in page
    assert "export MLFLOW_TRACKING_URI=http://testserver" in page and "export MLFLOW_WORKSPACE=acme" in page
    row = ApiToken.objects.get(name="laptop")
    assert row.read_only and row.workspace == workspace and row.expires_at is not None
    assert secret not in client.get("/tokens").content.decode()  # never again


def test_token_form_rejects_bad_input_and_foreign_workspaces(signed_in, member, other_workspace):
    client = signed_in(member)
    assert client.post("/tokens", {"name": "", "scope": "write"}).status_code == 400
    assert client.post("/tokens", {"name": "x", "scope": "write", "workspace": "globex"}).status_code == 400
    assert client.post("/tokens", {"name": "x", "scope": "root"}).status_code == 400
    assert not ApiToken.objects.exists()


def test_revoke_my_token_but_not_someone_elses(signed_in, member, make_user, make_token, workspace):
    mine, _ = services.token_create(actor=None, user=member, name="mine")
    other = make_user("oscar", workspace)
    theirs, _ = services.token_create(actor=None, user=other, name="theirs")
    client = signed_in(member)
    assert client.post(f"/tokens/{theirs.pk}/revoke").status_code == 404
    assert client.post(f"/tokens/{mine.pk}/revoke").status_code == 302
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert client.get(f"/tokens/{mine.pk}/revoke").status_code == 405


def test_csrf_is_required_on_page_forms(signed_in, member):
    client = signed_in(member)
    client.handler.enforce_csrf_checks = True
    assert client.post("/tokens", {"name": "x", "scope": "write"}).status_code == 403


def test_service_accounts_page_for_admins_only(signed_in, make_user, workspace, other_workspace):
    admin = make_user("ada", workspace, Role.ADMIN)
    member = make_user("max", workspace, Role.MEMBER)
    assert signed_in(member).get("/workspaces/acme/service-accounts").status_code == 403
    assert signed_in(admin).get("/workspaces/globex/service-accounts").status_code == 404  # not hers: as if missing
    client = signed_in(admin)
    assert client.post("/workspaces/acme/service-accounts", {"username": "ci-bot", "role": "member"}).status_code == 302
    assert client.post("/workspaces/acme/service-accounts", {"username": "ci-bot", "role": "member"}).status_code == 409
    created = client.post("/workspaces/acme/service-accounts/ci-bot/tokens", {"name": "deploy", "scope": "write", "expires_in": "7"})
    page = created.content.decode()
    assert created.status_code == 200 and "export MLFLOW_WORKSPACE=acme" in page and 'id="token-secret"' in page
    token = ApiToken.objects.get(name="deploy")
    assert token.user.username == "ci-bot" and token.workspace == workspace
    assert client.post(f"/workspaces/acme/service-accounts/ci-bot/tokens/{token.pk}/revoke").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.post("/workspaces/acme/service-accounts/ci-bot/deactivate").status_code == 302
    assert not token.user.__class__.objects.get(username="ci-bot").is_active
    assert client.post("/workspaces/acme/service-accounts/nobody/deactivate").status_code == 404


def test_group_rules_page_create_update_delete_audited(signed_in, make_user, workspace):
    admin = make_user("ada", workspace, Role.ADMIN)
    team = services.team_create(actor=None, workspace=workspace, name="Science")
    client = signed_in(admin)
    assert client.post("/workspaces/acme/group-mappings", {"group": "ds", "role": "member", "team": team.pk}).status_code == 302
    assert client.post("/workspaces/acme/group-mappings", {"group": "ds", "role": "", "team": ""}).status_code == 400
    rule = GroupMapping.objects.get()
    assert (rule.group, rule.role, rule.team) == ("ds", "member", team)
    assert client.post(f"/workspaces/acme/group-mappings/{rule.pk}", {"group": "ds", "role": "viewer", "team": ""}).status_code == 302
    rule.refresh_from_db()
    assert (rule.role, rule.team) == ("viewer", None)
    assert "ds" in client.get("/workspaces/acme/group-mappings").content.decode()
    assert client.post(f"/workspaces/acme/group-mappings/{rule.pk}/delete").status_code == 302
    assert not GroupMapping.objects.exists()
    events = AuditEvent.objects.filter(action__startswith="group_mapping.").order_by("id")
    assert [(e.action, e.workspace_id, e.actor_id) for e in events] == [
        ("group_mapping.created", workspace.pk, admin.pk),
        ("group_mapping.updated", workspace.pk, admin.pk),
        ("group_mapping.deleted", workspace.pk, admin.pk),
    ]
    assert events[1].changes == {"before": {"group": "ds", "role": "member", "team": "Science"}, "after": {"group": "ds", "role": "viewer", "team": None}}


def test_group_rules_api(make_user, make_token, workspace, other_workspace, client):
    admin = make_user("ada", workspace, Role.ADMIN)
    member = make_user("max", workspace, Role.MEMBER)
    foreign_team = services.team_create(actor=None, workspace=other_workspace, name="Theirs")
    team = services.team_create(actor=None, workspace=workspace, name="Science")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin)}"}
    url = "/api/v1/workspaces/acme/group-mappings"

    def call(method, path, body=None, **headers):
        return getattr(client, method)(path, json.dumps(body) if body is not None else None, content_type="application/json", **(headers or auth))

    created = call("post", url, {"group": "ds", "role": "maintainer", "team": team.pk})
    assert created.status_code == 201 and created.json()["role"] == "maintainer" and created.json()["team"] == team.pk
    rule_id = created.json()["id"]
    assert call("post", url, {"group": "ds", "role": "maintainer", "team": team.pk}).status_code == 409
    assert call("post", url, {"group": "x", "team": foreign_team.pk}).status_code == 400
    assert call("post", url, {"group": "x"}).status_code == 400
    assert call("post", url, {"group": "x", "role": "owner"}).status_code == 400
    patched = call("patch", f"{url}/{rule_id}", {"role": None})
    assert patched.status_code == 200 and patched.json() == {**created.json(), "role": None}
    assert [r["group"] for r in call("get", url).json()] == ["ds"]
    assert call("get", url, HTTP_AUTHORIZATION=f"Bearer {make_token(member)}").status_code == 403
    assert call("get", "/api/v1/workspaces/globex/group-mappings").status_code == 404
    assert call("delete", f"{url}/{rule_id}").status_code == 204
    assert call("get", f"{url}/{rule_id}").status_code == 404
    read_only = {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin, read_only=True)}"}
    assert call("post", url, {"group": "y", "role": "viewer"}, **read_only).status_code == 403


def test_page_actions_name_the_signed_in_user_in_the_audit_log(signed_in, make_user, workspace):
    admin = make_user("ada", workspace, Role.ADMIN)
    signed_in(admin).post("/workspaces/acme/group-mappings", {"group": "ds", "role": "member"})
    event = AuditEvent.objects.get(action="group_mapping.created")
    assert (event.actor_name, event.auth_method, event.actor_kind) == ("ada", "session", "user")


def test_service_accounts_page_costs_the_same_queries_for_more_accounts(signed_in, make_user, workspace):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = make_user("ada", workspace, Role.ADMIN)
    client = signed_in(admin)

    def add_account(username):
        account = services.service_account_create(actor=admin, workspace=workspace, username=username, role=Role.MEMBER)
        services.token_create(actor=admin, user=account, name=f"{username}-t", workspace=workspace, read_only=True, expires_at=None)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/workspaces/acme/service-accounts")
        assert page.status_code == 200
        return len(captured), page.content.decode()

    add_account("bot-one")
    one, _ = queries()
    add_account("bot-two")
    add_account("bot-three")
    three, page = queries()
    assert three == one  # the tokens of every account come in one query, not one per account
    assert all(f'data-token="{name}-t"' in page for name in ("bot-one", "bot-two", "bot-three"))
