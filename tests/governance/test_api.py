"""Warden's own API: workspaces, members, teams, grants, tokens, service accounts and ``me``."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import ApiToken, Role, User
from accounts.permissions import Level
from experiments import services as tracking
from experiments.models import Experiment, ExperimentUserObjectPermission
from registry import services as registry_services
from tests.governance.rest import Rest


@pytest.fixture
def member(make_user, workspace):
    return make_user("mia", workspace, Role.MEMBER)


@pytest.fixture
def viewer(make_user, workspace):
    return make_user("vic", workspace, Role.VIEWER)


@pytest.fixture
def experiment(member, workspace):
    return tracking.experiment_create(actor=member, workspace=workspace, name="exp")


def status(response, expected):
    assert response.status_code == expected, (response.status_code, response.content)
    return response.json() if response.content else None


# ---------------------------------------------------------------- workspaces


def test_anonymous_and_bad_tokens_get_401(client, db):
    assert Rest(client).get("me").status_code == 401
    assert Rest(client, "wdn_000000000000_nope").get("me").status_code == 401


def test_workspaces_lists_mine_and_only_superusers_create(rest, admin, other_workspace, make_user):
    assert [w["slug"] for w in status(rest(admin).get("workspaces"), 200)] == ["acme"]
    status(rest(admin).post("workspaces", {"slug": "new"}), 403)
    root = make_user("root", is_superuser=True)
    body = status(rest(root).post("workspaces", {"slug": "initech", "name": "Initech", "admin": "ada"}), 201)
    assert body["slug"] == "initech"
    assert Experiment.objects.filter(workspace__slug="initech", is_default=True).exists()
    assert [w["slug"] for w in status(rest(admin).get("workspaces"), 200)] == ["acme", "initech"]
    status(rest(root).post("workspaces", {"slug": "initech"}), 409)
    status(rest(root).post("workspaces", {"slug": "bad slug"}), 400)
    status(rest(root).patch("workspaces/initech", {"name": "Initech Inc"}), 200)
    status(rest(admin).patch("workspaces/acme", {"name": "mine now"}), 403)


def test_a_workspace_of_others_answers_like_a_missing_one(rest, admin, other_workspace):
    missing = status(rest(admin).get("workspaces/nowhere/members"), 404)
    hidden = status(rest(admin).get("workspaces/globex/members"), 404)
    assert hidden["detail"].replace("globex", "X") == missing["detail"].replace("nowhere", "X")


def test_a_bound_token_sees_only_its_workspace(rest, admin, other_workspace):
    from accounts import services

    services.membership_set(actor=None, workspace=other_workspace, user=admin, role=Role.ADMIN)
    bound = rest(admin, workspace=other_workspace)
    assert [w["slug"] for w in status(bound.get("workspaces"), 200)] == ["globex"]
    status(bound.get("workspaces/acme/members"), 404)
    assert [p["workspace"] for p in status(bound.get("me"), 200)["permissions"]] == ["globex"]


# ---------------------------------------------------------------- members


def test_members_are_listed_to_members_and_managed_by_admins(rest, admin, member, viewer, make_user):
    newcomer = make_user("nina")
    assert [m["username"] for m in status(rest(viewer).get("workspaces/acme/members"), 200)] == ["ada", "mia", "vic"]
    status(rest(member).post("workspaces/acme/members", {"username": "nina", "role": "viewer"}), 403)
    body = status(rest(admin).post("workspaces/acme/members", {"username": "nina", "role": "viewer"}), 201)
    assert body == {**body, "username": "nina", "role": "viewer"}
    status(rest(admin).post("workspaces/acme/members", {"username": "nina"}), 409)
    status(rest(admin).post("workspaces/acme/members", {"username": "ghost"}), 400)
    status(rest(admin).post("workspaces/acme/members", {"username": "nina", "role": "owner"}), 400)
    assert status(rest(admin).patch("workspaces/acme/members/nina", {"role": "maintainer"}), 200)["role"] == "maintainer"
    status(rest(admin).delete("workspaces/acme/members/nina"), 204)
    status(rest(admin).get("workspaces/acme/members/nina"), 404)
    assert not newcomer.memberships.exists()
    assert status(rest(admin).delete("workspaces/acme/members/ada"), 409)["detail"].startswith("A workspace keeps")


# ---------------------------------------------------------------- teams


def test_teams_and_their_members(rest, admin, member, viewer, other_workspace, make_user):
    stranger = make_user("sam", other_workspace)
    team = status(rest(admin).post("workspaces/acme/teams", {"name": "research"}), 201)
    status(rest(admin).post("workspaces/acme/teams", {"name": "research"}), 409)
    status(rest(member).post("workspaces/acme/teams", {"name": "mine"}), 403)
    url = f"workspaces/acme/teams/{team['id']}"
    status(rest(admin).post(f"{url}/members", {"username": "mia"}), 201)
    status(rest(admin).post(f"{url}/members", {"username": "sam"}), 400)  # not a member of acme
    assert status(rest(viewer).get(url), 200)["members"] == ["mia"]
    assert status(rest(admin).patch(url, {"name": "science"}), 200)["name"] == "science"
    status(rest(admin).delete(f"{url}/members/mia"), 204)
    status(rest(admin).delete(f"{url}/members/mia"), 404)
    status(rest(admin).delete(url), 204)
    status(rest(admin).get(url), 404)
    assert stranger.groups.count() == 0


def test_a_team_of_another_workspace_is_not_found(rest, admin, make_user, other_workspace):
    from accounts import services

    theirs = services.team_create(actor=None, workspace=other_workspace, name="theirs")
    status(rest(admin).get(f"workspaces/acme/teams/{theirs.pk}"), 404)
    status(rest(admin).delete(f"workspaces/acme/teams/{theirs.pk}"), 404)


# ---------------------------------------------------------------- grants


def test_grants_on_an_experiment_need_manage(rest, admin, member, viewer, experiment, make_user, workspace):
    url = f"workspaces/acme/experiments/{experiment.wire_id}/grants"
    other = make_user("otto", workspace, Role.MEMBER)
    status(rest(other).get(url), 403)  # sees it (member floor) but does not manage it
    status(rest(viewer).post(url, {"user": "vic", "level": "MANAGE"}), 403)
    listed = status(rest(member).get(url), 200)
    assert listed == [{"kind": "user", "user": "mia", "team": None, "team_name": None, "level": "MANAGE"}]
    status(rest(member).post(url, {"user": "vic", "level": "EDIT"}), 201)
    status(rest(member).post(url, {"user": "vic", "level": "USE"}), 200)
    status(rest(member).patch(f"{url}/users/vic", {"level": "READ"}), 200)
    team = status(rest(admin).post("workspaces/acme/teams", {"name": "research"}), 201)
    status(rest(member).post(url, {"team": team["id"], "level": "EDIT"}), 201)
    levels = {(g["kind"], g["user"] or g["team_name"]): g["level"] for g in status(rest(member).get(url), 200)}
    assert levels == {("user", "mia"): "MANAGE", ("user", "vic"): "READ", ("team", "research"): "EDIT"}
    status(rest(member).post(url, {"user": "vic", "level": "OWNER"}), 400)
    status(rest(member).post(url, {"user": "vic", "team": team["id"], "level": "READ"}), 400)
    status(rest(member).post(url, {"user": "nobody", "level": "READ"}), 404)
    status(rest(member).patch(f"{url}/users/otto", {"level": "READ"}), 404)  # otto holds no grant
    status(rest(member).delete(f"{url}/teams/{team['id']}"), 204)
    status(rest(member).delete(f"{url}/users/vic"), 204)
    status(rest(member).delete(f"{url}/users/vic"), 404)
    status(rest(admin).get(url), 200)


def test_grants_on_an_invisible_experiment_answer_like_a_missing_one(rest, member, experiment, make_user, workspace):
    Experiment.objects.filter(pk=experiment.pk).update(restricted=True)
    other = rest(make_user("otto", workspace, Role.MEMBER))
    hidden = status(other.get(f"workspaces/acme/experiments/{experiment.wire_id}/grants"), 404)
    missing = status(other.get("workspaces/acme/experiments/987654/grants"), 404)
    assert hidden["detail"].replace(experiment.wire_id, "X") == missing["detail"].replace("987654", "X")


def test_grants_on_a_registered_model(rest, member, viewer, workspace):
    registry_services.registered_model_create(actor=member, workspace=workspace, name="iris")
    url = "workspaces/acme/registered-models/iris/grants"
    status(rest(member).post(url, {"user": "vic", "level": "USE"}), 201)
    assert {g["user"]: g["level"] for g in status(rest(member).get(url), 200)} == {"mia": "MANAGE", "vic": "USE"}
    status(rest(viewer).get(url), 403)
    status(rest(member).get("workspaces/acme/registered-models/nope/grants"), 404)


def test_a_read_only_token_cannot_change_anything(rest, admin, experiment):
    reader = rest(admin, read_only=True)
    status(reader.get("workspaces/acme/members"), 200)
    status(reader.post("workspaces/acme/teams", {"name": "x"}), 403)
    status(reader.post(f"workspaces/acme/experiments/{experiment.wire_id}/grants", {"user": "ada", "level": "READ"}), 403)
    status(reader.post("tokens", {"name": "more"}), 403)


# ---------------------------------------------------------------- me


def test_me_reports_effective_permissions(rest, member, viewer, experiment, workspace, admin):
    from accounts import services

    team = services.team_create(actor=None, workspace=workspace, name="research")
    services.team_member_add(actor=None, team=team, user=viewer)
    services.grant_set(actor=None, obj=experiment, level=Level.EDIT, team=team)
    Experiment.objects.filter(pk=experiment.pk).update(restricted=True)
    body = status(rest(viewer, read_only=True).get("me"), 200)
    assert body["username"] == "vic" and body["token"]["read_only"] is True
    (acme,) = body["permissions"]
    assert acme["role"] == "viewer" and acme["workspace_level"] == "READ" and acme["teams"] == ["research"]
    assert acme["experiments"] == [{"experiment_id": experiment.wire_id, "name": "exp", "level": "USE"}]  # EDIT, capped
    mine = status(rest(member).get("me"), 200)["permissions"][0]
    assert mine["experiments"] == [{"experiment_id": experiment.wire_id, "name": "exp", "level": "MANAGE"}]


# ---------------------------------------------------------------- tokens


def test_own_tokens_show_the_secret_once_and_revoke(rest, member, client):
    api = rest(member)
    created = status(api.post("tokens", {"name": "ci", "read_only": True, "workspace": "acme"}), 201)
    secret = created.pop("token")
    assert secret.startswith("wdn_") and created["workspace"] == "acme" and created["read_only"] is True
    listed = status(api.get("tokens"), 200)
    assert all("token" not in t and "digest" not in t for t in listed)
    assert secret not in str(listed)
    status(Rest(client, secret).get("me"), 200)
    status(api.delete(f"tokens/{created['id']}"), 204)
    status(Rest(client, secret).get("me"), 401)
    status(api.post("tokens", {"name": "x", "workspace": "globex"}), 400)
    status(api.post("tokens", {"name": "x", "expires_at": "2000-01-01T00:00:00Z"}), 400)


def test_someone_elses_token_is_not_found(rest, member, viewer):
    theirs = ApiToken.objects.filter(user=viewer)
    rest(viewer)
    status(rest(member).delete(f"tokens/{theirs.first().pk}"), 404)
    assert theirs.first().revoked_at is None


def test_a_token_only_mints_tokens_no_broader_than_itself(rest, member):
    soon = timezone.now() + datetime.timedelta(days=1)
    bound = rest(member, workspace=member.default_workspace, expires_at=soon)
    status(bound.post("tokens", {"name": "wide"}), 400)
    status(bound.post("tokens", {"name": "long", "workspace": "acme"}), 400)
    later = (soon - datetime.timedelta(hours=1)).isoformat()
    status(bound.post("tokens", {"name": "ok", "workspace": "acme", "expires_at": later}), 201)


# ---------------------------------------------------------------- service accounts


def test_service_accounts_and_their_tokens_are_for_admins(rest, admin, member, client, other_workspace):
    status(rest(member).get("workspaces/acme/service-accounts"), 403)
    status(rest(member).post("workspaces/acme/service-accounts", {"username": "ci-bot"}), 403)
    status(rest(admin).post("workspaces/acme/service-accounts", {"username": "ci-bot", "role": "member"}), 201)
    status(rest(admin).post("workspaces/acme/service-accounts", {"username": "ci-bot"}), 409)
    bot = User.objects.get(username="ci-bot")
    assert bot.is_service_account and not bot.has_usable_password()
    created = status(rest(admin).post("workspaces/acme/service-accounts/ci-bot/tokens", {"name": "deploy"}), 201)
    assert created["workspace"] == "acme" and created["user"] == "ci-bot"
    bot_api = Rest(client, created["token"])
    assert status(bot_api.get("me"), 200)["is_service_account"] is True
    assert [t["name"] for t in status(rest(admin).get("workspaces/acme/service-accounts/ci-bot/tokens"), 200)] == ["deploy"]
    stranger_admin = rest(User.objects.create_user("gus"), workspace=None)
    status(stranger_admin.get("workspaces/acme/service-accounts/ci-bot"), 404)
    status(rest(admin).delete(f"workspaces/acme/service-accounts/ci-bot/tokens/{created['id']}"), 204)
    status(bot_api.get("me"), 401)
    again = status(rest(admin).post("workspaces/acme/service-accounts/ci-bot/tokens", {"name": "again"}), 201)
    status(rest(admin).delete("workspaces/acme/service-accounts/ci-bot"), 204)
    status(Rest(client, again["token"]).get("me"), 401)
    status(rest(admin).get("workspaces/acme/service-accounts/mia"), 404)  # a person is not a service account


# ---------------------------------------------------------------- schema, docs, admin


@pytest.fixture
def drop_schema_proxies():
    """Generating the schema leaves weak proxies to dead schema objects in DRF's per-view
    registry (the descriptor keeps its last view alive); drop them so that code scanning the
    garbage collector later in the session meets none."""
    yield
    from rest_framework.views import APIView

    APIView.__dict__["schema"].instance_schemas.clear()


def test_schema_and_docs_are_served_without_a_cdn(client, drop_schema_proxies):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/workspaces/{slug}/experiments/{key}/grants" in paths and "/api/v1/me" in paths
    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_django_admin_is_for_superusers_only(client, make_user):
    staff = make_user("stella", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302  # back to the login page
    root = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get("/admin/").status_code == 200
    for page in ("accounts/workspace/", "accounts/apitoken/", "experiments/experimentuserobjectpermission/"):
        assert client.get(f"/admin/{page}").status_code == 200, page


def test_creator_grant_shows_in_the_admin_grant_table(experiment, member):
    assert ExperimentUserObjectPermission.objects.get(content_object=experiment).user == member
