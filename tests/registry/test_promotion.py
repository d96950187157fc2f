"""Governed promotion: protected models, transition requests, four eyes, reject, cancel, refused deletes."""

import json

import pytest

from accounts.models import Role
from registry.models import ModelVersion, RegisteredModel, RegisteredModelAlias, TransitionRequest
from tests.registry.conftest import error, ok


class Warden:
    """Warden's own API (/api/v1/registry/...) with a user's token."""

    def __init__(self, client, token):
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path, params=None):
        return self.client.get(f"/api/v1/registry/{path}", params or {}, **self.headers)

    def post(self, path, body=None):
        return self.client.post(f"/api/v1/registry/{path}", json.dumps(body or {}), content_type="application/json", **self.headers)

    def put(self, path, body=None):
        return self.client.put(f"/api/v1/registry/{path}", json.dumps(body or {}), content_type="application/json", **self.headers)


@pytest.fixture
def warden(client, make_token):
    return lambda user, **opts: Warden(client, make_token(user, **opts))


@pytest.fixture
def people(make_user, workspace, member, maintainer):
    """member "mia" creates the model (MANAGE on it); "max" is a maintainer; "cole" a plain member."""
    return {"mia": member, "max": maintainer, "cole": make_user("cole", workspace, Role.MEMBER)}


@pytest.fixture
def protected_iris(api, registered, warden, people):
    registered("iris", 3)
    body = ok(warden(people["mia"]).put("models/iris/protection", {"protected": True}))
    assert body == {"name": "iris", "protected": True, "protected_aliases": ["champion"]}
    return "iris"


def pending_id(message: str) -> int:
    return int(message.split("transition request ")[1].split(";")[0])


def test_unprotected_models_act_at_once(api, registered):
    registered("iris", 1)
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Production"}))
    ok(api.post("registered-models/alias", {"name": "iris", "alias": "champion", "version": "1"}))
    assert not TransitionRequest.objects.exists()


def test_protection_needs_manage(api, registered, warden, people, viewer):
    registered("iris", 1)
    assert ok(warden(people["cole"]).get("models/iris/protection"))["protected"] is False
    error(warden(people["cole"]).put("models/iris/protection", {"protected": True}), 403, "PERMISSION_DENIED")
    error(warden(viewer).put("models/iris/protection", {"protected": True}), 403, "PERMISSION_DENIED")
    error(warden(people["mia"], read_only=True).put("models/iris/protection", {"protected": True}), 403, "PERMISSION_DENIED")
    error(warden(people["mia"]).get("models/nope/protection"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert warden(people["mia"]).put("models/iris/protection", {"protected": "yes please"}).status_code == 400
    body = ok(warden(people["max"]).put("models/iris/protection", {"protected": True, "protected_aliases": ["prod", "champion"]}))
    assert body["protected_aliases"] == ["champion", "prod"]
    assert warden(people["max"]).put("models/iris/protection", {"protected": True, "protected_aliases": ["latest"]}).status_code == 400


def test_production_on_a_protected_model_opens_a_request_and_four_eyes_approve(api, wire, warden, people, protected_iris):
    response = api.post("model-versions/transition-stage", {"name": "iris", "version": "2", "stage": "Production", "archive_existing_versions": True})
    message = error(response, 403, "PERMISSION_DENIED")
    assert "protected" in message and "approve" in message
    request_id = pending_id(message)
    assert ModelVersion.objects.get(version=2).current_stage == "None"  # nothing moved yet

    # asking again finds the same pending request
    again = error(api.post("model-versions/transition-stage", {"name": "iris", "version": "2", "stage": "Production", "archive_existing_versions": True}), 403, "PERMISSION_DENIED")
    assert pending_id(again) == request_id and TransitionRequest.objects.count() == 1

    listed = ok(warden(people["max"]).get("transition-requests", {"status": "pending"}))["results"]
    assert [(r["id"], r["name"], r["version"], r["kind"], r["to_stage"], r["requested_by"]) for r in listed] == [
        (request_id, "iris", "2", "stage", "Production", "mia")
    ]
    # the requester cannot approve their own request, even holding MANAGE
    error(warden(people["mia"]).post(f"transition-requests/{request_id}/approve"), 403, "PERMISSION_DENIED")
    # a plain member (EDIT) cannot approve
    error(warden(people["cole"]).post(f"transition-requests/{request_id}/approve"), 403, "PERMISSION_DENIED")
    ModelVersion.objects.filter(version=1).update(current_stage="Production")
    decided = ok(warden(people["max"]).post(f"transition-requests/{request_id}/approve", {"comment": "lgtm"}))
    assert (decided["status"], decided["decided_by"], decided["decision_comment"]) == ("approved", "max", "lgtm")
    stages = dict(ModelVersion.objects.values_list("version", "current_stage"))
    assert stages == {1: "Archived", 2: "Production", 3: "None"}  # archive_existing_versions was honoured
    error(warden(people["max"]).post(f"transition-requests/{request_id}/approve"), 400, "INVALID_STATE")
    # already in Production: nothing to approve, the call simply succeeds
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "2", "stage": "Production"}))


def test_other_stages_are_not_governed(api, protected_iris):
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Staging"}))
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Archived"}))
    assert not TransitionRequest.objects.exists()


def test_edit_may_request_but_only_manage_acts_on_unprotected(wire, warden, people, protected_iris):
    colleague = wire(people["cole"])
    message = error(colleague.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Production"}), 403, "PERMISSION_DENIED")
    request_id = pending_id(message)
    ok(warden(people["mia"]).post(f"transition-requests/{request_id}/approve"))
    assert ModelVersion.objects.get(version=1).current_stage == "Production"


def test_read_only_token_cannot_request(wire, people, protected_iris):
    reader = wire(people["mia"], read_only=True)
    error(reader.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Production"}), 403, "PERMISSION_DENIED")
    assert not TransitionRequest.objects.exists()


def test_protected_alias_request_reject_and_cancel(api, warden, people, protected_iris):
    ok(api.post("registered-models/alias", {"name": "iris", "alias": "candidate", "version": "1"}))  # not protected
    message = error(api.post("registered-models/alias", {"name": "iris", "alias": "champion", "version": "1"}), 403, "PERMISSION_DENIED")
    first = pending_id(message)
    assert "champion" in message
    assert not RegisteredModelAlias.objects.filter(alias="champion").exists()
    # case does not get around the protection
    upper = pending_id(error(api.post("registered-models/alias", {"name": "iris", "alias": "CHAMPION", "version": "1"}), 403, "PERMISSION_DENIED"))

    rejected = ok(warden(people["max"]).post(f"transition-requests/{first}/reject", {"comment": "not yet"}))
    assert rejected["status"] == "rejected"
    assert not RegisteredModelAlias.objects.filter(alias="champion").exists()

    second = pending_id(error(api.post("registered-models/alias", {"name": "iris", "alias": "champion", "version": "2"}), 403, "PERMISSION_DENIED"))
    assert second != first
    error(warden(people["max"]).post(f"transition-requests/{second}/cancel"), 403, "PERMISSION_DENIED")  # not theirs
    assert ok(warden(people["mia"]).post(f"transition-requests/{second}/cancel"))["status"] == "cancelled"
    error(warden(people["max"]).post(f"transition-requests/{second}/approve"), 400, "INVALID_STATE")

    third = pending_id(error(api.post("registered-models/alias", {"name": "iris", "alias": "champion", "version": "3"}), 403, "PERMISSION_DENIED"))
    ok(warden(people["max"]).post(f"transition-requests/{third}/approve"))
    assert RegisteredModelAlias.objects.get(alias="champion").model_version.version == 3
    # re-pointing to where it already is needs nobody
    ok(api.post("registered-models/alias", {"name": "iris", "alias": "champion", "version": "3"}))
    statuses = dict(TransitionRequest.objects.values_list("pk", "status"))
    assert statuses == {first: "rejected", upper: "pending", second: "cancelled", third: "approved"}


def test_protected_model_and_alias_holders_cannot_be_deleted(api, warden, people, protected_iris):
    request_id = pending_id(error(api.post("registered-models/alias", {"name": "iris", "alias": "champion", "version": "3"}), 403, "PERMISSION_DENIED"))
    ok(warden(people["max"]).post(f"transition-requests/{request_id}/approve"))

    error(api.delete("registered-models/delete", {"name": "iris"}), 400, "INVALID_STATE")
    error(api.delete("model-versions/delete", {"name": "iris", "version": "3"}), 400, "INVALID_STATE")
    error(api.delete("registered-models/alias", {"name": "iris", "alias": "champion"}), 400, "INVALID_STATE")
    assert RegisteredModel.objects.filter(name="iris").exists()
    assert ModelVersion.objects.filter(version=3, deleted=False).exists()
    ok(api.delete("model-versions/delete", {"name": "iris", "version": "1"}))  # holds nothing protected

    ok(warden(people["max"]).put("models/iris/protection", {"protected": False}))
    ok(api.delete("model-versions/delete", {"name": "iris", "version": "3"}))
    ok(api.delete("registered-models/delete", {"name": "iris"}))
    assert not RegisteredModel.objects.filter(deleted=False).exists()  # soft-deleted: gone for the client
    assert api.get("registered-models/get", {"name": "iris"}).status_code == 404


def test_deleting_a_version_cancels_its_pending_requests(api, warden, people, protected_iris):
    request_id = pending_id(error(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Production"}), 403, "PERMISSION_DENIED"))
    ok(api.delete("model-versions/delete", {"name": "iris", "version": "1"}))
    assert TransitionRequest.objects.get(pk=request_id).status == "cancelled"
    error(warden(people["max"]).post(f"transition-requests/{request_id}/approve"), 400, "INVALID_STATE")


def test_explicit_requests_list_and_detail(api, warden, people, protected_iris, viewer, outsider):
    mia = warden(people["mia"])
    created = mia.post("transition-requests", {"name": "iris", "version": "2", "stage": "Production", "comment": "ship it"})
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["to_stage"], body["alias"], body["comment"], body["status"]) == ("stage", "Production", None, "ship it", "pending")
    assert mia.post("transition-requests", {"name": "iris", "version": "2", "stage": "Production"}).status_code == 200  # same one
    assert mia.post("transition-requests", {"name": "iris", "version": "2"}).status_code == 400
    assert mia.post("transition-requests", {"name": "iris", "version": "2", "stage": "Production", "alias": "x"}).status_code == 400
    error(mia.post("transition-requests", {"name": "iris", "version": "2", "stage": "Prod"}), 400, "INVALID_PARAMETER_VALUE")
    error(warden(viewer).post("transition-requests", {"name": "iris", "version": "2", "stage": "Staging"}), 403, "PERMISSION_DENIED")

    assert ok(warden(viewer).get(f"transition-requests/{body['id']}"))["id"] == body["id"]
    error(warden(outsider).get(f"transition-requests/{body['id']}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert ok(warden(outsider).get("transition-requests"))["results"] == []
    assert [r["id"] for r in ok(mia.get("transition-requests", {"name": "iris"}))["results"]] == [body["id"]]
    assert ok(mia.get("transition-requests", {"status": "approved"}))["results"] == []
    assert mia.get("transition-requests", {"status": "bogus"}).status_code == 400


def test_the_drf_api_needs_authentication(client):
    assert client.get("/api/v1/registry/transition-requests").status_code in (401, 403)
