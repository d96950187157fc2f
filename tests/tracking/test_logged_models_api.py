import pytest

from tests.tracking.helpers import assert_error, create_experiment, create_run

pytestmark = pytest.mark.django_db


def test_logged_model_lifecycle(api, member):
    experiment_id = create_experiment(api)
    run_id = create_run(api, experiment_id)
    created = api.post("logged-models", {
        "experiment_id": experiment_id,
        "name": "model",
        "model_type": "sklearn",
        "source_run_id": run_id,
        "params": [{"key": "C", "value": "1.0"}],
        "tags": [{"key": "mlflow.source.name", "value": "train.py"}],
    }).json()["model"]
    info = created["info"]
    model_id = info["model_id"]
    assert model_id.startswith("m-") and len(model_id) == 34
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts"
    assert info["source_run_id"] == run_id
    assert info["creator_id"] == member.pk
    assert created["data"]["params"] == [{"key": "C", "value": "1.0"}]

    finalized = api.patch(f"logged-models/{model_id}", {"model_id": model_id, "status": "LOGGED_MODEL_READY"}).json()
    assert finalized["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    assert api.patch(f"logged-models/{model_id}/tags", {"tags": [{"key": "k", "value": "v"}]}).json() == {}
    assert api.post(f"logged-models/{model_id}/params", {"params": [{"key": "D", "value": "2"}]}).json() == {}
    got = api.get(f"logged-models/{model_id}").json()["model"]
    assert {t["key"]: t["value"] for t in got["info"]["tags"]}["k"] == "v"
    assert {p["key"] for p in got["data"]["params"]} == {"C", "D"}
    assert api.delete(f"logged-models/{model_id}/tags/k").json() == {}
    assert "k" not in {t["key"] for t in api.get(f"logged-models/{model_id}").json()["model"]["info"]["tags"]}

    api.post("runs/log-batch", {"run_id": run_id, "metrics": [{"key": "acc", "value": 0.9, "timestamp": 1, "model_id": model_id}]})
    metrics = api.get(f"logged-models/{model_id}").json()["model"]["data"]["metrics"]
    assert metrics[0]["key"] == "acc" and metrics[0]["run_id"] == run_id

    found = api.post("logged-models/search", {"experiment_ids": [experiment_id]}).json()["models"]
    assert [m["info"]["model_id"] for m in found] == [model_id]
    assert api.delete(f"logged-models/{model_id}").json() == {}
    assert_error(api.get(f"logged-models/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert api.post("logged-models/search", {"experiment_ids": [experiment_id]}).json().get("models", []) == []


def test_logged_model_bad_input(api):
    experiment_id = create_experiment(api)
    model_id = api.post("logged-models", {"experiment_id": experiment_id}).json()["model"]["info"]["model_id"]
    assert_error(api.patch(f"logged-models/{model_id}", {"status": "DONE"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("logged-models", {}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.get("logged-models/m-" + "f" * 32), 404, "RESOURCE_DOES_NOT_EXIST")


def test_logged_model_of_other_workspace_not_found(api, wire, make_user, other_workspace):
    experiment_id = create_experiment(api)
    model_id = api.post("logged-models", {"experiment_id": experiment_id}).json()["model"]["info"]["model_id"]
    outsider = wire(make_user("eve", other_workspace))
    assert_error(outsider.get(f"logged-models/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(outsider.patch(f"logged-models/{model_id}", {"status": "LOGGED_MODEL_READY"}), 404, "RESOURCE_DOES_NOT_EXIST")
