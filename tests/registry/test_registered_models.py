"""registered-models/*: create, get, update, rename, delete, tags, latest versions; errors and scoping."""

import unicodedata

import pytest

from accounts.models import Role
from registry.models import RegisteredModel, RegisteredModelTag
from tests.registry.conftest import error, ok


def test_create_and_get_round_trip(api):
    body = ok(api.post("registered-models/create", {"name": "iris", "description": "flowers", "tags": [{"key": "team", "value": "a"}]}))
    model = body["registered_model"]
    assert model["name"] == "iris"
    assert model["description"] == "flowers"
    assert model["tags"] == [{"key": "team", "value": "a"}]
    assert model["creation_timestamp"] == model["last_updated_timestamp"] > 0
    assert "latest_versions" not in model
    fetched = ok(api.get("registered-models/get", {"name": "iris"}))["registered_model"]
    assert fetched == model


def test_create_duplicate_is_400_resource_already_exists(api):
    ok(api.post("registered-models/create", {"name": "iris"}))
    message = error(api.post("registered-models/create", {"name": "iris"}), 400, "RESOURCE_ALREADY_EXISTS")
    assert "iris" in message
    assert RegisteredModel.objects.count() == 1


def test_names_are_canonicalised_to_nfc(api):
    decomposed = unicodedata.normalize("NFD", "modèle")
    ok(api.post("registered-models/create", {"name": decomposed}))
    error(api.post("registered-models/create", {"name": "modèle"}), 400, "RESOURCE_ALREADY_EXISTS")
    assert ok(api.get("registered-models/get", {"name": "modèle"}))["registered_model"]["name"] == "modèle"


@pytest.mark.parametrize(
    "name",
    ["", "   ", "a/b", "a:b", "%41dmin", "bad\x00name", "tab\tname", ".", "..", "../x", "x" * 257, ["list"]],
)
def test_invalid_names_are_refused(api, name):
    error(api.post("registered-models/create", {"name": name}), 400, "INVALID_PARAMETER_VALUE")
    assert not RegisteredModel.objects.exists()


def test_create_with_bad_tags_writes_nothing(api):
    response = api.post("registered-models/create", {"name": "m", "tags": [{"key": "ok", "value": "1"}, {"key": "../x", "value": "2"}]})
    error(response, 400, "INVALID_PARAMETER_VALUE")
    assert not RegisteredModel.objects.exists()
    error(api.post("registered-models/create", {"name": "m", "tags": [{"key": "k", "value": "v" * 100_001}]}), 400, "INVALID_PARAMETER_VALUE")
    assert not RegisteredModel.objects.exists()


def test_get_missing_is_404(api):
    message = error(api.get("registered-models/get", {"name": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert "nope" in message
    error(api.get("registered-models/get"), 400, "INVALID_PARAMETER_VALUE")


def test_update_sets_description_and_time(api):
    created = ok(api.post("registered-models/create", {"name": "iris"}))["registered_model"]
    updated = ok(api.patch("registered-models/update", {"name": "iris", "description": "new"}))["registered_model"]
    assert updated["description"] == "new"
    assert updated["last_updated_timestamp"] >= created["last_updated_timestamp"]
    cleared = ok(api.patch("registered-models/update", {"name": "iris"}))["registered_model"]
    assert "description" not in cleared


def test_rename_moves_versions_and_refuses_taken_names(api, registered):
    registered("iris", 2)
    ok(api.post("registered-models/create", {"name": "taken"}))
    renamed = ok(api.post("registered-models/rename", {"name": "iris", "new_name": "iris-v2"}))["registered_model"]
    assert renamed["name"] == "iris-v2"
    assert [v["name"] for v in renamed["latest_versions"]] == ["iris-v2"]
    error(api.get("registered-models/get", {"name": "iris"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert ok(api.get("model-versions/get", {"name": "iris-v2", "version": "2"}))["model_version"]["version"] == "2"
    error(api.post("registered-models/rename", {"name": "iris-v2", "new_name": "taken"}), 400, "RESOURCE_ALREADY_EXISTS")
    error(api.post("registered-models/rename", {"name": "iris-v2", "new_name": "a/b"}), 400, "INVALID_PARAMETER_VALUE")
    error(api.post("registered-models/rename", {"name": "iris-v2"}), 400, "INVALID_PARAMETER_VALUE")


def test_delete_takes_a_json_body_and_removes_everything(api, registered):
    registered("iris", 2)
    assert api.delete("registered-models/delete", {"name": "iris"}).json() == {}
    error(api.get("registered-models/get", {"name": "iris"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.delete("registered-models/delete", {"name": "iris"}), 404, "RESOURCE_DOES_NOT_EXIST")
    # the name is free again
    ok(api.post("registered-models/create", {"name": "iris"}))


def test_tags_set_overwrite_and_delete(api):
    ok(api.post("registered-models/create", {"name": "iris"}))
    assert ok(api.post("registered-models/set-tag", {"name": "iris", "key": "team", "value": "a"})) == {}
    ok(api.post("registered-models/set-tag", {"name": "iris", "key": "team", "value": "b"}))
    ok(api.post("registered-models/set-tag", {"name": "iris", "key": "empty"}))
    tags = ok(api.get("registered-models/get", {"name": "iris"}))["registered_model"]["tags"]
    assert tags == [{"key": "empty", "value": ""}, {"key": "team", "value": "b"}]
    assert ok(api.delete("registered-models/delete-tag", {"name": "iris", "key": "team"})) == {}
    ok(api.delete("registered-models/delete-tag", {"name": "iris", "key": "never-set"}))
    assert list(RegisteredModelTag.objects.values_list("key", flat=True)) == ["empty"]
    error(api.post("registered-models/set-tag", {"name": "iris", "key": "/abs", "value": "x"}), 400, "INVALID_PARAMETER_VALUE")
    error(api.post("registered-models/set-tag", {"name": "iris", "value": "x"}), 400, "INVALID_PARAMETER_VALUE")
    error(api.post("registered-models/set-tag", {"name": "nope", "key": "k", "value": "x"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_latest_versions_per_stage_on_get_and_get_latest_versions(api, registered):
    registered("iris", 4)
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Production", "archive_existing_versions": False}))
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "2", "stage": "staging", "archive_existing_versions": False}))
    latest = ok(api.get("registered-models/get", {"name": "iris"}))["registered_model"]["latest_versions"]
    assert sorted((v["current_stage"], v["version"]) for v in latest) == [("None", "4"), ("Production", "1"), ("Staging", "2")]

    # POST first (what the client tries), GET as fallback; both answer the same
    by_post = ok(api.post("registered-models/get-latest-versions", {"name": "iris", "stages": ["production"]}))
    by_get = ok(api.get("registered-models/get-latest-versions", {"name": "iris", "stages": ["Production"]}))
    assert [v["version"] for v in by_post["model_versions"]] == ["1"] == [v["version"] for v in by_get["model_versions"]]
    everything = ok(api.post("registered-models/get-latest-versions", {"name": "iris"}))["model_versions"]
    assert sorted(v["version"] for v in everything) == ["1", "2", "4"]
    assert ok(api.post("registered-models/get-latest-versions", {"name": "iris", "stages": ["Archived"]})) == {}
    error(api.post("registered-models/get-latest-versions", {"name": "iris", "stages": ["Prod"]}), 400, "INVALID_PARAMETER_VALUE")


def test_http_methods_follow_the_client(api):
    ok(api.post("registered-models/create", {"name": "iris"}))
    assert api.post("registered-models/get", {"name": "iris"}).status_code == 405
    assert api.post("registered-models/update", {"name": "iris"}).status_code == 405
    assert api.post("registered-models/delete", {"name": "iris"}).status_code == 405
    assert api.get("registered-models/create", {"name": "x"}).status_code == 405


def test_ajax_api_prefix_serves_the_same_api(api):
    ok(api.post("/ajax-api/2.0/mlflow/registered-models/create", {"name": "iris"}))
    assert ok(api.get("/ajax-api/2.0/mlflow/registered-models/get", {"name": "iris"}))["registered_model"]["name"] == "iris"


def test_non_json_body_is_refused(client, make_token, member):
    token = make_token(member)
    response = client.post(
        "/api/2.0/mlflow/registered-models/create", '{"name": "x"}', content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    error(response, 400, "INVALID_PARAMETER_VALUE")
    assert not RegisteredModel.objects.exists()


def test_unauthenticated_is_401(client):
    response = client.get("/api/2.0/mlflow/registered-models/get", {"name": "x"})
    error(response, 401, "UNAUTHENTICATED")


# ---------------------------------------------------------------- permissions and tenancy


def test_other_workspace_model_answers_like_a_missing_one(api, wire, outsider):
    ok(api.post("registered-models/create", {"name": "secret"}))
    theirs = wire(outsider)
    missing = theirs.get("registered-models/get", {"name": "never-existed"})
    hidden = theirs.get("registered-models/get", {"name": "secret"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(b"secret", b"X") == missing.content.replace(b"never-existed", b"X")
    # the name is per workspace: the other tenant may use it
    ok(theirs.post("registered-models/create", {"name": "secret"}))
    assert RegisteredModel.objects.filter(name="secret").count() == 2
    error(theirs.delete("registered-models/delete", {"name": "never-existed"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_viewer_reads_but_cannot_write(api, wire, viewer):
    ok(api.post("registered-models/create", {"name": "iris"}))
    reader = wire(viewer)
    ok(reader.get("registered-models/get", {"name": "iris"}))
    error(reader.post("registered-models/create", {"name": "mine"}), 403, "PERMISSION_DENIED")
    error(reader.patch("registered-models/update", {"name": "iris", "description": "x"}), 403, "PERMISSION_DENIED")
    error(reader.post("registered-models/set-tag", {"name": "iris", "key": "k", "value": "v"}), 403, "PERMISSION_DENIED")
    error(reader.delete("registered-models/delete", {"name": "iris"}), 403, "PERMISSION_DENIED")


def test_members_manage_only_what_they_created(api, wire, make_user, workspace, maintainer):
    ok(api.post("registered-models/create", {"name": "iris"}))
    colleague = wire(make_user("cole", workspace, Role.MEMBER))
    ok(colleague.post("registered-models/set-tag", {"name": "iris", "key": "k", "value": "v"}))  # EDIT
    error(colleague.post("registered-models/rename", {"name": "iris", "new_name": "x"}), 403, "PERMISSION_DENIED")
    error(colleague.delete("registered-models/delete", {"name": "iris"}), 403, "PERMISSION_DENIED")
    ok(wire(maintainer).post("registered-models/rename", {"name": "iris", "new_name": "iris2"}))
    ok(api.delete("registered-models/delete", {"name": "iris2"}))


def test_restricted_model_is_invisible_to_other_members(api, wire, make_user, workspace, admin):
    ok(api.post("registered-models/create", {"name": "private"}))
    RegisteredModel.objects.filter(name="private").update(restricted=True)
    colleague = wire(make_user("cole", workspace, Role.MEMBER))
    error(colleague.get("registered-models/get", {"name": "private"}), 404, "RESOURCE_DOES_NOT_EXIST")
    ok(api.get("registered-models/get", {"name": "private"}))  # its creator
    ok(wire(admin).get("registered-models/get", {"name": "private"}))


def test_read_only_token_cannot_write(wire, member):
    reader = wire(member, read_only=True)
    error(reader.post("registered-models/create", {"name": "iris"}), 403, "PERMISSION_DENIED")


def test_workspace_header_selects_the_tenant(wire, make_user, workspace, other_workspace):
    both = make_user("bea", workspace, Role.MEMBER)
    from accounts import services as account_services

    account_services.membership_set(actor=None, workspace=other_workspace, user=both, role=Role.MEMBER)
    ok(wire(both, workspace="globex").post("registered-models/create", {"name": "iris"}))
    error(wire(both, workspace="acme").get("registered-models/get", {"name": "iris"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert RegisteredModel.objects.get(name="iris").workspace == other_workspace
