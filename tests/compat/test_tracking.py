"""Tracking with the real mlflow client over HTTP: what a training script does, and what comes back."""

import json
import os
from pathlib import Path

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.entities.logged_model_status import LoggedModelStatus
from sklearn.linear_model import LogisticRegression

from tests.compat.conftest import PIP_REQUIREMENTS

pytestmark = [pytest.mark.compat, pytest.mark.django_db(transaction=True)]


def test_a_training_script_logs_a_run_that_reads_back_exactly(as_alice, mlflow_client):
    experiment = mlflow.set_experiment("compat-tracking")
    assert mlflow.set_experiment("compat-tracking").experiment_id == experiment.experiment_id  # found by name now
    with mlflow.start_run(run_name="train-1") as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_params({"solver": "lbfgs", "max_iter": 200})
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.93, "f1": 0.91}, step=3)
        mlflow.set_tag("team", "a")
    run_id = run.info.run_id

    got = mlflow_client.get_run(run_id)
    assert got.info.experiment_id == experiment.experiment_id
    assert got.info.run_name == "train-1"
    assert got.info.status == "FINISHED"
    assert got.info.lifecycle_stage == "active"
    assert got.info.end_time >= got.info.start_time > 0
    assert got.data.params == {"C": "1.0", "solver": "lbfgs", "max_iter": "200"}
    assert got.data.metrics == {"loss": pytest.approx(1 / 3), "acc": 0.93, "f1": 0.91}
    assert got.data.tags["team"] == "a"
    assert got.data.tags["mlflow.runName"] == "train-1"
    # The server stamps who called, whatever the client claims.
    assert got.info.user_id == "alice"
    assert got.data.tags["mlflow.user"] == "alice"

    history = mlflow_client.get_metric_history(run_id, "loss")
    assert sorted((m.step, m.value) for m in history) == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert all(m.key == "loss" and m.timestamp > 0 for m in history)
    assert [(m.step, m.value) for m in mlflow_client.get_metric_history(run_id, "acc")] == [(3, 0.93)]


def test_artifacts_upload_list_and_download_byte_for_byte(as_alice, mlflow_client, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes("hello artifact \u2713\n".encode())
    blob = tmp_path / "weights.bin"
    blob.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # several MB: must stream, not fit one buffer

    mlflow.set_experiment("compat-artifacts")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(notes))
        mlflow.log_artifact(str(blob), artifact_path="data/raw")
        mlflow.log_dict({"features": 4, "classes": 3}, "config.json")
    run_id = run.info.run_id
    assert mlflow_client.get_run(run_id).info.artifact_uri.startswith("mlflow-artifacts:/")  # proxied

    top = {f.path: f for f in mlflow_client.list_artifacts(run_id)}
    assert set(top) == {"notes.txt", "config.json", "data"}
    assert top["data"].is_dir and not top["notes.txt"].is_dir
    assert top["notes.txt"].file_size == notes.stat().st_size
    inner = mlflow_client.list_artifacts(run_id, "data/raw")
    assert [(f.path, f.file_size) for f in inner] == [("data/raw/weights.bin", blob.stat().st_size)]

    out = tmp_path / "out"
    out.mkdir()
    config = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="config.json", dst_path=str(out))
    assert json.loads(Path(config).read_text()) == {"features": 4, "classes": 3}
    got_notes = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="notes.txt", dst_path=str(out))
    assert Path(got_notes).read_bytes() == notes.read_bytes()
    got_dir = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="data", dst_path=str(out))
    assert (Path(got_dir) / "raw" / "weights.bin").read_bytes() == blob.read_bytes()
    everything = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "all"))
    assert sorted(os.listdir(everything)) == ["config.json", "data", "notes.txt"]


def test_sklearn_log_model_is_a_logged_model_that_loads_and_predicts(as_alice, mlflow_client, iris):
    features, labels = iris
    classifier = LogisticRegression(max_iter=300).fit(features, labels)
    mlflow.set_experiment("compat-models")
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.97)
        info = mlflow.sklearn.log_model(
            classifier, name="model", input_example=features[:2], pip_requirements=PIP_REQUIREMENTS
        )

    assert info.model_id.startswith("m-") and info.model_uri == f"models:/{info.model_id}"
    logged = mlflow_client.get_logged_model(info.model_id)
    assert logged.name == "model"
    assert logged.status == LoggedModelStatus.READY
    assert logged.source_run_id == run.info.run_id
    assert logged.experiment_id == run.info.experiment_id
    assert {m.key: m.value for m in logged.metrics or []} == {"acc": 0.97}  # run metrics are linked to the model
    outputs = mlflow_client.get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]

    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert loaded.predict(features[:10]).tolist() == classifier.predict(features[:10]).tolist()
    found = mlflow_client.search_logged_models(experiment_ids=[run.info.experiment_id])
    assert [m.model_id for m in found] == [info.model_id]


def test_sklearn_autolog_records_params_metrics_dataset_and_model(as_alice, mlflow_client, iris):
    features, labels = iris
    mlflow.set_experiment("compat-autolog")
    mlflow.sklearn.autolog(log_input_examples=False, silent=True)
    with mlflow.start_run() as run:
        LogisticRegression(C=0.5, max_iter=300).fit(features, labels)
    mlflow.sklearn.autolog(disable=True)

    got = mlflow_client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params["C"] == "0.5" and got.data.params["max_iter"] == "300"
    assert 0.9 < got.data.metrics["training_accuracy_score"] <= 1.0
    assert got.data.tags["estimator_name"] == "LogisticRegression"
    datasets = got.inputs.dataset_inputs
    assert len(datasets) == 1
    assert {t.key: t.value for t in datasets[0].tags} == {"mlflow.data.context": "train"}
    assert json.loads(datasets[0].dataset.profile)["features_shape"] == [150, 4]
    [model_output] = got.outputs.model_outputs
    model = mlflow_client.get_logged_model(model_output.model_id)
    assert model.source_run_id == run.info.run_id and model.status == LoggedModelStatus.READY
    assert "estimator.html" in {f.path for f in mlflow_client.list_artifacts(run.info.run_id)}
    predicted = mlflow.pyfunc.load_model(f"models:/{model.model_id}").predict(features[:5])
    assert predicted.tolist() == labels[:5].tolist()


def test_search_runs_filters_orders_and_pages(as_alice, mlflow_client):
    experiment_id = mlflow.set_experiment("compat-search").experiment_id
    plan = [("r1", 0.2, "a", "g1"), ("r2", 0.9, "a", "g2"), ("r3", 0.5, "b", "g2"), ("r4", 0.7, "a", "g1")]
    ids = {}
    for name, acc, kind, group in plan:
        with mlflow.start_run(run_name=name) as run:
            mlflow.log_metric("acc", acc)
            mlflow.log_param("kind", kind)
            mlflow.set_tag("group", group)
        ids[run.info.run_id] = name

    def names(runs):
        return [ids[r.info.run_id] for r in runs]

    found = mlflow_client.search_runs(
        [experiment_id], "metrics.acc > 0.4 and params.kind = 'a'", order_by=["metrics.acc DESC"]
    )
    assert names(found) == ["r2", "r4"]
    assert names(mlflow_client.search_runs([experiment_id], order_by=["metrics.acc ASC"])) == ["r1", "r3", "r4", "r2"]
    assert names(mlflow_client.search_runs([experiment_id], "tags.group = 'g2'", order_by=["params.kind DESC"])) == [
        "r3",
        "r2",
    ]
    assert names(mlflow_client.search_runs([experiment_id], "attributes.run_name LIKE 'r%' and metrics.acc <= 0.2")) == [
        "r1"
    ]

    first = mlflow_client.search_runs([experiment_id], order_by=["metrics.acc DESC"], max_results=3)
    assert names(first) == ["r2", "r4", "r3"] and first.token
    rest = mlflow_client.search_runs([experiment_id], order_by=["metrics.acc DESC"], max_results=3, page_token=first.token)
    assert names(rest) == ["r1"] and not rest.token

    frame = mlflow.search_runs(experiment_names=["compat-search"], filter_string="params.kind = 'b'")
    assert frame["run_id"].tolist() == [r for r, n in ids.items() if n == "r3"]
    assert frame["metrics.acc"].tolist() == [0.5]


def test_delete_restore_and_failed_runs_keep_their_lifecycle(as_alice, mlflow_client):
    experiment_id = mlflow.set_experiment("compat-lifecycle").experiment_id
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.5)
    run_id = run.info.run_id

    mlflow_client.delete_run(run_id)
    assert mlflow_client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert mlflow_client.search_runs([experiment_id]) == []
    deleted = mlflow_client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_id]

    mlflow_client.restore_run(run_id)
    restored = mlflow_client.get_run(run_id)
    assert restored.info.lifecycle_stage == "active" and restored.data.metrics == {"acc": 0.5}
    assert [r.info.run_id for r in mlflow_client.search_runs([experiment_id])] == [run_id]
    assert mlflow_client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY) == []

    with pytest.raises(RuntimeError), mlflow.start_run() as failing:
        raise RuntimeError("training crashed")
    assert mlflow_client.get_run(failing.info.run_id).info.status == "FAILED"
