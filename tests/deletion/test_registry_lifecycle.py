"""Registered models and versions are soft-deleted: gone for MLflow's client, restorable in Warden."""

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from experiments.models import PurgeClaim
from registry.models import ModelVersion, RegisteredModel, RegisteredModelAlias, TransitionRequest
from tests.registry.conftest import error, ok

pytestmark = pytest.mark.django_db
RESTORE = "/api/v1/registry/deleted-models/{}/restore"


@pytest.fixture
def iris(api, shop, workspace, member):
    """'iris' with two versions, created over the wire by the member (who then manages it)."""
    run = shop.run(shop.experiment(workspace))
    ok(api.post("registered-models/create", {"name": "iris"}))
    for _ in range(2):
        ok(api.post("model-versions/create", {"name": "iris", "source": f"runs:/{run.run_uuid}/model", "run_id": run.run_uuid}))
    ok(api.post("registered-models/alias", {"name": "iris", "alias": "prod", "version": "2"}))
    return RegisteredModel.objects.get(name="iris")


def test_a_deleted_model_is_not_found_by_get_search_or_its_versions(api, iris):
    assert ok(api.delete("registered-models/delete", {"name": "iris"})) == {}
    error(api.get("registered-models/get", {"name": "iris"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.get("model-versions/get", {"name": "iris", "version": "1"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.get("registered-models/alias", {"name": "iris", "alias": "prod"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert ok(api.get("registered-models/search")).get("registered_models", []) == []
    assert ok(api.get("model-versions/search")).get("model_versions", []) == []
    error(api.delete("registered-models/delete", {"name": "iris"}), 404, "RESOURCE_DOES_NOT_EXIST")
    row = RegisteredModel.objects.get(pk=iris.pk)
    assert row.deleted and row.deleted_time and ModelVersion.objects.filter(registered_model=row).count() == 2


def test_a_new_model_takes_the_name_and_restore_refuses_until_it_is_free(api, iris):
    ok(api.delete("registered-models/delete", {"name": "iris"}))
    ok(api.post("registered-models/create", {"name": "iris"}))
    error(api.post(RESTORE.format(iris.pk)), 400, "RESOURCE_ALREADY_EXISTS")
    assert RegisteredModel.objects.get(pk=iris.pk).deleted
    ok(api.post("registered-models/rename", {"name": "iris", "new_name": "iris-new"}))
    body = ok(api.post(RESTORE.format(iris.pk)))
    assert body == {"id": iris.pk, "name": "iris", "deleted": False}
    got = ok(api.get("registered-models/get", {"name": "iris"}))["registered_model"]
    assert {v["version"] for v in got["latest_versions"]} == {"2"}
    assert ok(api.get("registered-models/alias", {"name": "iris", "alias": "prod"}))["model_version"]["version"] == "2"
    event = AuditEvent.objects.get(action="registered_model.restored")
    assert event.target_id == str(iris.pk) and event.actor_name == "mia"


def test_deleting_a_model_cancels_its_pending_requests(api, iris, workspace):
    version = iris.versions.get(version=1)
    request = TransitionRequest.objects.create(
        registered_model=iris, model_version=version, kind="stage", to_stage="Production", creation_timestamp=1
    )
    ok(api.delete("registered-models/delete", {"name": "iris"}))
    assert TransitionRequest.objects.get(pk=request.pk).status == "cancelled"


def test_restore_needs_manage_and_is_scoped_to_the_workspace(api, iris, wire, make_user, workspace, other_workspace):
    ok(api.delete("registered-models/delete", {"name": "iris"}))
    viewer = wire(make_user("vic", workspace, Role.VIEWER))
    error(viewer.post(RESTORE.format(iris.pk)), 403, "PERMISSION_DENIED")
    outsider = wire(make_user("otto", other_workspace, Role.ADMIN))
    error(outsider.post(RESTORE.format(iris.pk)), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.post(RESTORE.format(999999)), 404, "RESOURCE_DOES_NOT_EXIST")
    assert RegisteredModel.objects.get(pk=iris.pk).deleted


def test_a_claimed_model_cannot_be_restored(api, iris, workspace):
    ok(api.delete("registered-models/delete", {"name": "iris"}))
    PurgeClaim.objects.create(workspace=workspace, kind="registered_model", object_id=iris.pk)
    assert "being purged" in error(api.post(RESTORE.format(iris.pk)), 400, "INVALID_STATE")


def test_a_deleted_version_is_restored_without_its_aliases(api, iris):
    path = "/api/v1/registry/models/iris/versions/2/restore"
    ok(api.delete("model-versions/delete", {"name": "iris", "version": "2"}))
    error(api.get("model-versions/get", {"name": "iris", "version": "2"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert ok(api.post(path)) == {"name": "iris", "version": "2", "deleted": False}
    assert ok(api.get("model-versions/get", {"name": "iris", "version": "2"}))["model_version"]["version"] == "2"
    assert not RegisteredModelAlias.objects.filter(registered_model=iris).exists()
    assert AuditEvent.objects.filter(action="model_version.restored", target_name="iris v2").count() == 1
    error(api.post(path), 404, "RESOURCE_DOES_NOT_EXIST")  # not deleted (any more)
    error(api.post("/api/v1/registry/models/iris/versions/9/restore"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_a_refused_restore_names_the_deleted_model_in_the_audit_log(api, iris, wire, make_user, workspace):
    ok(api.delete("registered-models/delete", {"name": "iris"}))
    viewer = wire(make_user("vic", workspace, Role.VIEWER))
    error(viewer.post(RESTORE.format(iris.pk)), 403, "PERMISSION_DENIED")
    event = AuditEvent.objects.get(action="access.denied")
    assert (event.target_type, event.target_id, event.target_name, event.changes["need"]) == (
        "registered_model", str(iris.pk), "iris", "MANAGE"
    )
