"""model-versions/*: create from each accepted source, get, update, delete, stages, download uri, tags."""

from registry.models import ModelVersion, ModelVersionTag
from tests.registry.conftest import error, ok


def test_create_from_logged_model_is_ready_at_once(api, workspace, member, make_run, make_logged_model):
    run = make_run(workspace, user=member)
    logged = make_logged_model(run=run)
    ok(api.post("registered-models/create", {"name": "iris"}))
    body = ok(api.post("model-versions/create", {
        "name": "iris", "source": f"models:/{logged.model_id}", "model_id": logged.model_id,
        "tags": [{"key": "k", "value": "v"}], "description": "first",
    }))
    version = body["model_version"]
    assert version["version"] == "1"
    assert version["status"] == "READY"
    assert version["current_stage"] == "None"
    assert version["source"] == f"models:/{logged.model_id}"
    assert version["run_id"] == run.run_uuid  # lineage from the logged model's source run
    assert version["model_id"] == logged.model_id
    assert version["user_id"] == "mia"  # stamped by the server
    assert version["tags"] == [{"key": "k", "value": "v"}]
    assert version["description"] == "first"
    uri = ok(api.get("model-versions/get-download-uri", {"name": "iris", "version": "1"}))
    assert uri == {"artifact_uri": f"mlflow-artifacts:/{run.experiment.pk}/models/{logged.model_id}/artifacts"}


def test_create_from_runs_uri_derives_the_run_root(api, workspace, make_run):
    run = make_run(workspace)
    ok(api.post("registered-models/create", {"name": "iris"}))
    version = ok(api.post("model-versions/create", {"name": "iris", "source": f"runs:/{run.run_uuid}/model", "run_id": run.run_uuid}))["model_version"]
    assert version["run_id"] == run.run_uuid
    assert "model_id" not in version
    uri = ok(api.get("model-versions/get-download-uri", {"name": "iris", "version": "1"}))["artifact_uri"]
    assert uri == f"mlflow-artifacts:/{run.experiment.pk}/{run.run_uuid}/artifacts/model"


def test_create_from_the_default_experiment_uses_wire_id_zero(api, workspace, make_run):
    from experiments.models import Experiment

    run = make_run(experiment=Experiment.objects.get(workspace=workspace, is_default=True))
    ok(api.post("registered-models/create", {"name": "iris"}))
    ok(api.post("model-versions/create", {"name": "iris", "source": f"mlflow-artifacts:/0/{run.run_uuid}/artifacts/model", "run_id": run.run_uuid}))
    uri = ok(api.get("model-versions/get-download-uri", {"name": "iris", "version": "1"}))["artifact_uri"]
    assert uri == f"mlflow-artifacts:/0/{run.run_uuid}/artifacts/model"


def test_create_from_managed_artifact_locations(api, workspace, make_run, make_logged_model):
    run = make_run(workspace)
    logged = make_logged_model(run=run)
    exp = run.experiment.pk
    ok(api.post("registered-models/create", {"name": "iris"}))
    first = ok(api.post("model-versions/create", {"name": "iris", "source": f"mlflow-artifacts:/{exp}/{run.run_uuid}/artifacts/sub/model"}))["model_version"]
    assert first["run_id"] == run.run_uuid
    second = ok(api.post("model-versions/create", {"name": "iris", "source": f"mlflow-artifacts:/{exp}/models/{logged.model_id}/artifacts"}))["model_version"]
    assert second["model_id"] == logged.model_id
    assert ok(api.get("model-versions/get-download-uri", {"name": "iris", "version": "2"}))["artifact_uri"] == (
        f"mlflow-artifacts:/{exp}/models/{logged.model_id}/artifacts"
    )


def test_register_from_run_with_logged_model_like_the_client(api, workspace, make_run, make_logged_model):
    """register_model('runs:/<run>/model') sends the logged model as source plus the run as lineage."""
    run = make_run(workspace)
    logged = make_logged_model(run=run)
    ok(api.post("registered-models/create", {"name": "iris"}))
    version = ok(api.post("model-versions/create", {
        "name": "iris", "source": f"models:/{logged.model_id}", "run_id": run.run_uuid, "model_id": logged.model_id,
    }))["model_version"]
    assert (version["run_id"], version["model_id"]) == (run.run_uuid, logged.model_id)


def test_copy_from_another_registered_version(api, registered):
    registered("iris", 1)
    ok(api.post("registered-models/create", {"name": "copy"}))
    copied = ok(api.post("model-versions/create", {"name": "copy", "source": "models:/iris/1"}))["model_version"]
    original = ok(api.get("model-versions/get", {"name": "iris", "version": "1"}))["model_version"]
    assert copied["source"] == "models:/iris/1"
    assert copied["model_id"] == original["model_id"]
    uris = [ok(api.get("model-versions/get-download-uri", {"name": n, "version": "1"}))["artifact_uri"] for n in ("iris", "copy")]
    assert uris[0] == uris[1]


def test_versions_are_numbered_and_never_reused(api, registered):
    registered("iris", 3)
    ok(api.delete("model-versions/delete", {"name": "iris", "version": "3"}))
    error(api.get("model-versions/get", {"name": "iris", "version": "3"}), 404, "RESOURCE_DOES_NOT_EXIST")
    from experiments.models import LoggedModel

    logged = LoggedModel.objects.first()
    version = ok(api.post("model-versions/create", {"name": "iris", "source": f"models:/{logged.model_id}"}))["model_version"]
    assert version["version"] == "4"
    assert sorted(ModelVersion.objects.values_list("version", flat=True)) == [1, 2, 3, 4]


def test_create_on_missing_model_is_404_and_writes_nothing(api, workspace, make_logged_model):
    logged = make_logged_model(workspace)
    error(api.post("model-versions/create", {"name": "nope", "source": f"models:/{logged.model_id}"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert not ModelVersion.objects.exists()


def test_create_with_bad_tag_writes_nothing(api, workspace, make_logged_model):
    logged = make_logged_model(workspace)
    ok(api.post("registered-models/create", {"name": "iris"}))
    response = api.post("model-versions/create", {"name": "iris", "source": f"models:/{logged.model_id}", "tags": [{"key": "", "value": "x"}]})
    error(response, 400, "INVALID_PARAMETER_VALUE")
    assert not ModelVersion.objects.exists()


def test_get_update_and_errors(api, registered):
    registered("iris", 1)
    version = ok(api.get("model-versions/get", {"name": "iris", "version": "1"}))["model_version"]
    updated = ok(api.patch("model-versions/update", {"name": "iris", "version": "1", "description": "better"}))["model_version"]
    assert updated["description"] == "better"
    assert updated["last_updated_timestamp"] >= version["last_updated_timestamp"]
    error(api.get("model-versions/get", {"name": "iris", "version": "x"}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("model-versions/get", {"name": "iris"}), 400, "INVALID_PARAMETER_VALUE")
    message = error(api.get("model-versions/get", {"name": "iris", "version": "9"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert "version=9" in message
    error(api.get("model-versions/get", {"name": "nope", "version": "1"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_transition_stage_with_and_without_archiving(api, registered):
    registered("iris", 3)
    for v in ("1", "2"):
        body = ok(api.post("model-versions/transition-stage", {"name": "iris", "version": v, "stage": "Production", "archive_existing_versions": False}))
        assert body["model_version"]["current_stage"] == "Production"
    body = ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "3", "stage": "production", "archive_existing_versions": True}))
    assert body["model_version"]["current_stage"] == "Production"
    stages = dict(ModelVersion.objects.values_list("version", "current_stage"))
    assert stages == {1: "Archived", 2: "Archived", 3: "Production"}
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "None"}))
    error(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Archived", "archive_existing_versions": True}), 400, "INVALID_PARAMETER_VALUE")
    error(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Prod"}), 400, "INVALID_PARAMETER_VALUE")
    error(api.post("model-versions/transition-stage", {"name": "iris", "version": "1"}), 400, "INVALID_PARAMETER_VALUE")
    error(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Staging", "archive_existing_versions": "maybe"}), 400, "INVALID_PARAMETER_VALUE")


def test_production_transitions_need_manage(api, wire, registered, make_user, workspace):
    from accounts.models import Role

    registered("iris", 2)
    colleague = wire(make_user("cole", workspace, Role.MEMBER))  # EDIT, not the creator
    ok(colleague.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Staging"}))
    error(colleague.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Production"}), 403, "PERMISSION_DENIED")
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "2", "stage": "Production"}))
    error(colleague.post("model-versions/transition-stage", {"name": "iris", "version": "2", "stage": "Archived"}), 403, "PERMISSION_DENIED")
    assert ModelVersion.objects.get(version=2).current_stage == "Production"


def test_delete_version_needs_manage_and_removes_its_aliases(api, wire, registered, make_user, workspace):
    from accounts.models import Role

    registered("iris", 2)
    ok(api.post("registered-models/alias", {"name": "iris", "alias": "best", "version": "2"}))
    colleague = wire(make_user("cole", workspace, Role.MEMBER))
    error(colleague.delete("model-versions/delete", {"name": "iris", "version": "2"}), 403, "PERMISSION_DENIED")
    assert ok(api.delete("model-versions/delete", {"name": "iris", "version": "2"})) == {}
    error(api.get("registered-models/alias", {"name": "iris", "alias": "best"}), 400, "INVALID_PARAMETER_VALUE")
    model = ok(api.get("registered-models/get", {"name": "iris"}))["registered_model"]
    assert "aliases" not in model
    assert [v["version"] for v in model["latest_versions"]] == ["1"]
    error(api.delete("model-versions/delete", {"name": "iris", "version": "2"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_version_tags(api, registered):
    registered("iris", 1)
    assert ok(api.post("model-versions/set-tag", {"name": "iris", "version": "1", "key": "k", "value": "v"})) == {}
    ok(api.post("model-versions/set-tag", {"name": "iris", "version": "1", "key": "k", "value": "w"}))
    assert ok(api.get("model-versions/get", {"name": "iris", "version": "1"}))["model_version"]["tags"] == [{"key": "k", "value": "w"}]
    assert ok(api.delete("model-versions/delete-tag", {"name": "iris", "version": "1", "key": "k"})) == {}
    assert not ModelVersionTag.objects.exists()
    error(api.post("model-versions/set-tag", {"name": "iris", "version": "2", "key": "k", "value": "v"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.post("model-versions/set-tag", {"name": "iris", "version": "1", "key": "a\\b", "value": "v"}), 400, "INVALID_PARAMETER_VALUE")


def test_other_workspace_versions_are_invisible(api, wire, registered, outsider):
    registered("iris", 1)
    theirs = wire(outsider)
    hidden = theirs.get("model-versions/get", {"name": "iris", "version": "1"})
    missing = theirs.get("model-versions/get", {"name": "zzzz", "version": "1"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(b"iris", b"X") == missing.content.replace(b"zzzz", b"X")
    error(theirs.get("model-versions/get-download-uri", {"name": "iris", "version": "1"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(theirs.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Staging"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_out_of_range_version_numbers_are_simply_not_found(api, registered):
    registered("iris", 1)
    error(api.get("model-versions/get", {"name": "iris", "version": "999999999999999999"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.get("model-versions/get", {"name": "iris", "version": "-1"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert ok(api.get("model-versions/search", {"filter": "version_number > 99999999999999"})) == {}
