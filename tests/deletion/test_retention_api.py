"""Warden's API for governed deletion: retention per workspace, protected experiments, deleted listing."""

import json

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from experiments.models import Experiment
from tests.deletion.conftest import days_ago
from tests.registry.conftest import error, ok

pytestmark = pytest.mark.django_db


class Warden:
    """Warden's own API under /api/v1/workspaces/<slug>/ with a user's token."""

    def __init__(self, client, token, slug="acme"):
        self.client, self.base = client, f"/api/v1/workspaces/{slug}"
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path, params=None):
        return self.client.get(f"{self.base}/{path}", params or {}, **self.headers)

    def put(self, path, body):
        return self.client.put(f"{self.base}/{path}", json.dumps(body), content_type="application/json", **self.headers)


@pytest.fixture
def as_user(client, make_token, make_user, workspace):
    def build(role, name=None, slug="acme"):
        return Warden(client, make_token(make_user(name or f"{role}-user", workspace, role)), slug)

    return build


def test_members_read_the_retention_and_admins_set_it_audited(as_user, workspace, settings):
    settings.WARDEN_DEFAULT_RETENTION_DAYS = 30
    member, admin = as_user(Role.MEMBER), as_user(Role.ADMIN)
    assert ok(member.get("deleted/retention")) == {
        "workspace": "acme", "retention_days": 30, "workspace_retention_days": None, "default_retention_days": 30
    }
    assert member.put("deleted/retention", {"retention_days": 7}).status_code == 403
    assert ok(admin.put("deleted/retention", {"retention_days": 7}))["retention_days"] == 7
    workspace.refresh_from_db()
    assert workspace.retention_days == 7
    event = AuditEvent.objects.get(action="workspace.deletion_retention_changed")
    assert event.changes == {"before": {"retention_days": None}, "after": {"retention_days": 7}}
    assert event.actor_name == "admin-user" and event.workspace_id == workspace.pk
    assert ok(admin.put("deleted/retention", {"retention_days": None}))["retention_days"] == 30
    for bad in (0, -1, "x", 40_000, True):
        response = admin.put("deleted/retention", {"retention_days": bad})
        assert response.status_code == 400 and "retention_days" in response.json(), (bad, response.content)
    assert AuditEvent.objects.filter(action="workspace.deletion_retention_changed").count() == 2


def test_another_workspace_answers_404(as_user, other_workspace):
    admin = as_user(Role.ADMIN, slug="globex")
    assert admin.get("deleted/retention").status_code == 404
    assert admin.put("deleted/retention", {"retention_days": 1}).status_code == 404
    other_workspace.refresh_from_db()
    assert other_workspace.retention_days is None


def test_manage_protects_an_experiment_which_then_cannot_be_deleted(api, as_user, shop, workspace):
    exp_id = ok(api.post("experiments/create", {"name": "keep"}))["experiment_id"]  # the member manages it
    colleague = as_user(Role.MEMBER, "cole")
    assert colleague.put(f"experiments/{exp_id}/protection", {"protected": True}).status_code == 403
    owner = Warden(api.client, api.headers["HTTP_AUTHORIZATION"].split()[1])
    assert ok(owner.put(f"experiments/{exp_id}/protection", {"protected": True})) == {"experiment_id": exp_id, "protected": True}
    assert ok(colleague.get(f"experiments/{exp_id}/protection"))["protected"] is True
    message = error(api.post("experiments/delete", {"experiment_id": exp_id}), 400, "INVALID_STATE")
    assert "protected" in message
    assert Experiment.objects.get(pk=exp_id).lifecycle_stage == "active"
    event = AuditEvent.objects.get(action="experiment.protection_changed")
    assert event.changes["after"] == {"protected": True} and event.target_id == exp_id
    ok(owner.put(f"experiments/{exp_id}/protection", {"protected": False}))
    ok(api.post("experiments/delete", {"experiment_id": exp_id}))
    assert owner.put("experiments/999999/protection", {"protected": True}).status_code == 404
    assert owner.put(f"experiments/{exp_id}/protection", {"protected": "maybe"}).status_code == 400


def test_admins_list_deleted_objects_with_their_purge_time(as_user, shop, workspace, other_workspace):
    exp = shop.experiment(workspace, "old")
    run = shop.run(exp)
    shop.delete(exp, 3)
    model = shop.delete(shop.registered_model(workspace, "rm"), 1)
    shop.delete(shop.run(shop.experiment(other_workspace)), 1)  # not theirs to see
    assert as_user(Role.MAINTAINER).get("deleted").status_code == 403
    body = ok(as_user(Role.ADMIN).get("deleted"))
    assert body["retention_days"] == 30
    assert [(item["kind"], item["id"]) for item in body["deleted"]] == [
        ("experiment", str(exp.pk)), ("run", run.run_uuid), ("registered_model", str(model.pk))
    ]
    first = body["deleted"][0]
    assert first["purge_after"] == first["deleted_time"] + 30 * 24 * 3600 * 1000 and not first["purging"]
    assert first["deleted_time"] <= days_ago(3) + 60_000
    only_runs = ok(as_user(Role.ADMIN, "ada2").get("deleted", {"kind": "run"}))["deleted"]
    assert [item["id"] for item in only_runs] == [run.run_uuid]
    assert as_user(Role.ADMIN, "ada3").get("deleted", {"kind": "bogus"}).status_code == 400


def test_a_deleted_logged_model_is_restored_through_warden(api, shop, workspace, member, make_user, client, make_token):
    exp_id = ok(api.post("experiments/create", {"name": "models"}))["experiment_id"]
    model_id = ok(api.post("/api/2.0/mlflow/logged-models", {"experiment_id": exp_id, "name": "m"}))["model"]["info"]["model_id"]
    ok(api.delete(f"/api/2.0/mlflow/logged-models/{model_id}"))
    error(api.get(f"/api/2.0/mlflow/logged-models/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    path = f"/api/v1/workspaces/acme/logged-models/{model_id}/restore"
    reader = make_token(make_user("vic", workspace, Role.VIEWER))
    assert client.post(path, HTTP_AUTHORIZATION=f"Bearer {reader}").status_code == 403
    assert ok(api.post(path)) == {"model_id": model_id, "lifecycle_stage": "active"}
    assert ok(api.get(f"/api/2.0/mlflow/logged-models/{model_id}"))["model"]["info"]["model_id"] == model_id
    assert AuditEvent.objects.get(action="logged_model.restored").target_id == model_id
    assert api.post(path).status_code == 404  # nothing deleted to restore


@pytest.mark.parametrize("limit", ["²", "0", "10001", "-1", "ten", "1.5"])
def test_a_bad_limit_on_the_deleted_listing_is_a_400(as_user, limit):
    response = as_user(Role.ADMIN).get("deleted", {"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()


def test_a_refused_logged_model_restore_names_the_model_in_the_audit_log(api, workspace, make_user, client, make_token):
    exp_id = ok(api.post("experiments/create", {"name": "models"}))["experiment_id"]
    model_id = ok(api.post("/api/2.0/mlflow/logged-models", {"experiment_id": exp_id, "name": "m"}))["model"]["info"]["model_id"]
    ok(api.delete(f"/api/2.0/mlflow/logged-models/{model_id}"))
    reader = make_token(make_user("vic", workspace, Role.VIEWER))
    path = f"/api/v1/workspaces/acme/logged-models/{model_id}/restore"
    assert client.post(path, HTTP_AUTHORIZATION=f"Bearer {reader}").status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert (event.target_type, event.target_id, event.changes["need"]) == ("logged_model", model_id, "EDIT")


def test_ids_with_a_nul_character_answer_404_like_any_missing_id(api, admin, make_token, client):
    client.raise_request_exception = False
    admin_auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(admin)}"}
    error(api.get("/api/2.0/mlflow/logged-models/m-%00"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert client.post("/api/v1/workspaces/acme/logged-models/m-%00/restore", **admin_auth).status_code == 404
    assert client.get("/api/2.0/mlflow/webhooks/w%00", **admin_auth).status_code == 404
    assert client.get("/api/v1/workspaces/acme/webhooks/w%00/deliveries", **admin_auth).status_code == 404
