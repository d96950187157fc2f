import pytest

from experiments.models import LatestMetric, Metric, Param, Run, RunTag
from tests.tracking.helpers import assert_error, create_experiment, create_run

pytestmark = pytest.mark.django_db


def _run(api, run_id):
    return api.get("runs/get", {"run_id": run_id, "run_uuid": run_id}).json()["run"]


def _by_key(items):
    return {i["key"]: i["value"] for i in items}


def test_create_run_stamps_the_authenticated_user(api, member):
    experiment_id = create_experiment(api)
    body = api.post(
        "runs/create",
        {
            "experiment_id": experiment_id,
            "user_id": "someone-else",
            "run_name": "first",
            "start_time": 123,
            "tags": [{"key": "mlflow.user", "value": "someone-else"}, {"key": "team", "value": "a"}],
        },
    ).json()["run"]
    info = body["info"]
    assert info["user_id"] == member.username
    assert info["run_name"] == "first"
    assert info["start_time"] == 123
    assert info["status"] == "RUNNING"
    assert info["experiment_id"] == experiment_id
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{info['run_id']}/artifacts"
    tags = _by_key(body["data"]["tags"])
    assert tags["mlflow.user"] == member.username
    assert tags["mlflow.runName"] == "first"
    assert tags["team"] == "a"


def test_run_name_generated_when_missing(api):
    info = _run(api, create_run(api))["info"]
    assert info["run_name"]
    assert _by_key(_run(api, info["run_id"])["data"]["tags"])["mlflow.runName"] == info["run_name"]


def test_update_run_status_end_time_and_name(api):
    run_id = create_run(api)
    body = api.post("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": 999, "run_name": "renamed"}).json()
    assert body["run_info"]["status"] == "FINISHED"
    assert body["run_info"]["end_time"] == 999
    run = _run(api, run_id)
    assert run["info"]["run_name"] == "renamed"
    assert _by_key(run["data"]["tags"])["mlflow.runName"] == "renamed"
    assert_error(api.post("runs/update", {"run_id": run_id, "status": "DONE"}), 400, "INVALID_PARAMETER_VALUE")


def test_delete_and_restore_run(api):
    run_id = create_run(api)
    assert api.post("runs/delete", {"run_id": run_id}).json() == {}
    assert _run(api, run_id)["info"]["lifecycle_stage"] == "deleted"
    assert_error(api.post("runs/log-parameter", {"run_id": run_id, "key": "a", "value": "1"}), 400, "INVALID_PARAMETER_VALUE")
    assert api.post("runs/restore", {"run_id": run_id}).json() == {}
    assert _run(api, run_id)["info"]["lifecycle_stage"] == "active"


def test_tags_params_and_metrics(api):
    run_id = create_run(api)
    assert api.post("runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"}).json() == {}
    assert api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"}).json() == {}
    # logging the same value again is fine, another value is refused
    assert api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"}).status_code == 200
    body = assert_error(api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.2"}), 400, "INVALID_PARAMETER_VALUE")
    assert "Changing param values is not allowed" in body["message"]
    for step, value in enumerate([0.9, 0.5, 0.7]):
        response = api.post("runs/log-metric", {"run_id": run_id, "key": "loss", "value": value, "timestamp": 10 + step, "step": step})
        assert response.json() == {}
    data = _run(api, run_id)["data"]
    assert _by_key(data["params"]) == {"lr": "0.1"}
    assert _by_key(data["tags"])["k"] == "v"
    assert data["metrics"] == [{"key": "loss", "value": 0.7, "timestamp": 12, "step": 2}]
    assert api.post("runs/delete-tag", {"run_id": run_id, "key": "k"}).json() == {}
    assert "k" not in _by_key(_run(api, run_id)["data"]["tags"])
    assert_error(api.post("runs/delete-tag", {"run_id": run_id, "key": "k"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_latest_metric_keeps_highest_step_even_when_logged_out_of_order(api):
    run_id = create_run(api)
    api.post("runs/log-metric", {"run_id": run_id, "key": "acc", "value": 0.8, "timestamp": 5, "step": 10})
    api.post("runs/log-metric", {"run_id": run_id, "key": "acc", "value": 0.1, "timestamp": 9, "step": 2})
    assert _run(api, run_id)["data"]["metrics"][0]["value"] == 0.8


def test_nan_and_infinity_round_trip(api):
    run_id = create_run(api)
    api.post("runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": "a", "value": "NaN", "timestamp": 1, "step": 0},
        {"key": "b", "value": "Infinity", "timestamp": 1, "step": 0},
        {"key": "c", "value": "-Infinity", "timestamp": 1, "step": 0},
    ]})
    metrics = _by_key(_run(api, run_id)["data"]["metrics"])
    assert metrics == {"a": "NaN", "b": "Infinity", "c": "-Infinity"}


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1}] * 1001}, "at most 1000 metrics"),
        ({"params": [{"key": f"p{i}", "value": "1"} for i in range(101)]}, "at most 100 params"),
        ({"tags": [{"key": f"t{i}", "value": "1"} for i in range(101)]}, "at most 100 tags"),
        ({"metrics": [{"key": "m", "timestamp": 1}]}, "value"),
        ({"metrics": [{"key": "m", "value": "abc", "timestamp": 1}]}, "must be a number"),
        ({"metrics": [{"key": "../m", "value": 1, "timestamp": 1}]}, "Invalid metric name"),
        ({"params": [{"key": "p", "value": "x" * 6001}]}, "exceeded length limit of 6000"),
        ({"tags": [{"key": "t", "value": "x" * 8001}]}, "exceeded length limit of 8000"),
        ({"params": [{"key": "k" * 251, "value": "1"}]}, "exceeded length limit of 250"),
        ({"params": [{"key": "p", "value": "1"}, {"key": "p", "value": "2"}]}, "Duplicate parameter keys"),
    ],
)
def test_log_batch_limits_reject_without_partial_write(api, payload, message):
    run_id = create_run(api)
    good = {"metrics": [{"key": "ok", "value": 1, "timestamp": 1}]}
    merged = {"run_id": run_id, **good, **payload} if "metrics" not in payload else {"run_id": run_id, **payload}
    body = assert_error(api.post("runs/log-batch", merged), 400, "INVALID_PARAMETER_VALUE")
    assert message in body["message"]
    run = Run.objects.get(run_uuid=run_id)
    assert not Metric.objects.filter(run=run).exists()
    assert not Param.objects.filter(run=run).exists()


def test_log_batch_param_conflict_leaves_nothing_written(api):
    run_id = create_run(api)
    api.post("runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"})
    response = api.post("runs/log-batch", {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 1, "timestamp": 1}],
        "params": [{"key": "q", "value": "x"}, {"key": "p", "value": "2"}],
        "tags": [{"key": "t", "value": "v"}],
    })
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    run = Run.objects.get(run_uuid=run_id)
    assert not Metric.objects.filter(run=run).exists()
    assert not Param.objects.filter(run=run, key="q").exists()
    assert not RunTag.objects.filter(run=run, key="t").exists()


def test_log_batch_of_1000_metrics_costs_at_most_six_queries(api, django_assert_max_num_queries, is_postgres):
    run_id = create_run(api)
    api.get("runs/get", {"run_id": run_id})  # token last-used stamp happens once, outside the budget
    metrics = [{"key": f"m{i % 10}", "value": i * 0.5, "timestamp": 1000 + i, "step": i} for i in range(1000)]
    # PostgreSQL: token, membership, run, one insert+upsert statement. SQLite adds a transaction block.
    with django_assert_max_num_queries(6 if is_postgres else 8):
        response = api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics})
    assert response.status_code == 200, response.content
    run = Run.objects.get(run_uuid=run_id)
    assert Metric.objects.filter(run=run).count() == 1000
    latest = dict(LatestMetric.objects.filter(run=run).values_list("key", "step"))
    assert latest == {f"m{k}": 990 + k for k in range(10)}


def test_metric_history_full_and_paged(api):
    run_id = create_run(api)
    metrics = [{"key": "loss", "value": 1 / (i + 1), "timestamp": 100 + i, "step": i} for i in range(25)]
    api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics})
    full = api.get("metrics/get-history", {"run_id": run_id, "run_uuid": run_id, "metric_key": "loss"})
    import json

    points = json.loads(b"".join(full.streaming_content))["metrics"]
    assert [p["step"] for p in points] == list(range(25))
    assert points[3] == {"key": "loss", "value": 0.25, "timestamp": 103, "step": 3}
    seen, token = [], None
    while True:
        params = {"run_id": run_id, "metric_key": "loss", "max_results": 10}
        if token:
            params["page_token"] = token
        body = api.get("metrics/get-history", params).json()
        seen += [p["step"] for p in body["metrics"]]
        token = body.get("next_page_token")
        if not token:
            break
    assert seen == list(range(25))
    assert_error(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "loss", "max_results": 10, "page_token": "forged"}), 400, "INVALID_PARAMETER_VALUE")


def test_metric_history_of_unknown_run_is_empty(api):
    response = api.get("metrics/get-history", {"run_id": "0" * 32, "metric_key": "loss"})
    assert response.status_code == 200
    assert response.json() == {}


def test_metric_history_bulk_interval(api):
    run_a, run_b = create_run(api), create_run(api)
    for run_id in (run_a, run_b):
        api.post("runs/log-batch", {"run_id": run_id, "metrics": [{"key": "x", "value": i, "timestamp": i, "step": i} for i in range(100)]})
    response = api.get("metrics/get-history-bulk-interval", {"run_ids": [run_a, run_b], "metric_key": "x", "max_results": 5, "start_step": 10, "end_step": 50})
    body = response.json()["metrics"]
    for run_id in (run_a, run_b):
        steps = [m["step"] for m in body if m["run_id"] == run_id]
        assert steps[0] == 10 and steps[-1] == 50 and len(steps) == 5
    assert_error(api.get("metrics/get-history-bulk-interval", {"metric_key": "x"}), 400, "INVALID_PARAMETER_VALUE")


def test_log_inputs_and_outputs(api):
    experiment_id = create_experiment(api)
    run_id = create_run(api, experiment_id)
    dataset = {"name": "iris", "digest": "abc123", "source_type": "code", "source": "{}", "schema": "{\"a\": 1}"}
    tags = [{"key": "mlflow.data.context", "value": "training"}]
    assert api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"tags": tags, "dataset": dataset}]}).json() == {}
    assert api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"tags": tags, "dataset": dataset}]}).status_code == 200
    model = api.post("logged-models", {"experiment_id": experiment_id, "name": "m", "source_run_id": run_id}).json()["model"]
    model_id = model["info"]["model_id"]
    assert api.post("runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id, "step": 3}]}).json() == {}
    run = _run(api, run_id)
    assert run["inputs"]["dataset_inputs"] == [{"tags": tags, "dataset": dataset}]
    assert run["outputs"]["model_outputs"] == [{"model_id": model_id, "step": 3}]
    assert_error(api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"dataset": {"name": "x"}}]}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("runs/outputs", {"run_id": run_id, "models": [{"model_id": "m-" + "0" * 32}]}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_search_runs_filter_order_and_paging(api):
    experiment_id = create_experiment(api)
    for i in range(5):
        run_id = create_run(api, experiment_id, run_name=f"r{i}")
        api.post("runs/log-batch", {"run_id": run_id, "metrics": [{"key": "acc", "value": i / 10, "timestamp": 1}], "params": [{"key": "lr", "value": "0.01" if i % 2 else "0.1"}]})
    body = api.post("runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.acc > 0.05 and params.lr = '0.01'", "order_by": ["metrics.acc DESC"]}).json()
    assert [r["info"]["run_name"] for r in body["runs"]] == ["r3", "r1"]
    names, token = [], None
    while True:
        request = {"experiment_ids": [experiment_id], "order_by": ["metrics.acc ASC"], "max_results": 2}
        if token:
            request["page_token"] = token
        body = api.post("runs/search", request).json()
        names += [r["info"]["run_name"] for r in body.get("runs", [])]
        token = body.get("next_page_token")
        if not token:
            break
    assert names == ["r0", "r1", "r2", "r3", "r4"]
    assert_error(api.post("runs/search", {"experiment_ids": [experiment_id], "max_results": 50001}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.acc >"}), 400, "INVALID_PARAMETER_VALUE")


def test_log_model_history_tag(api):
    import json

    run_id = create_run(api)
    assert api.post("runs/log-model", {"run_id": run_id, "model_json": json.dumps({"artifact_path": "model"})}).json() == {}
    tags = _by_key(_run(api, run_id)["data"]["tags"])
    assert json.loads(tags["mlflow.log-model.history"]) == [{"artifact_path": "model"}]


def test_client_cannot_retag_the_run_user(api, member):
    run_id = create_run(api)
    api.post("runs/set-tag", {"run_id": run_id, "key": "mlflow.user", "value": "mallory"})
    api.post("runs/log-batch", {"run_id": run_id, "tags": [{"key": "mlflow.user", "value": "mallory"}]})
    assert _by_key(_run(api, run_id)["data"]["tags"])["mlflow.user"] == member.username
