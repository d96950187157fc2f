"""The searches through MLflow's REST API: the JSON the client sends, tokens and error shapes."""

import pytest

from .conftest import make_experiment, make_logged_model, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def exp(workspace, member):
    experiment = make_experiment(workspace, "wire-exp", created_by=member)
    for i in range(7):
        make_run(experiment, name=f"w{i}", start_time=i, metrics={"acc": i / 10}, params={"lr": "0.1" if i % 2 else "0.2"})
    return experiment


def test_runs_search_pages_through_the_api(api, exp):
    body = {"experiment_ids": [str(exp.pk)], "filter": "params.lr = '0.1' AND metrics.acc >= 0", "order_by": ["metrics.acc DESC"], "max_results": 2}
    seen, token = [], None
    while True:
        response = api.post("runs/search", {**body, **({"page_token": token} if token else {})})
        assert response.status_code == 200, response.content
        data = response.json()
        seen += [run["info"]["run_name"] for run in data.get("runs", [])]
        token = data.get("next_page_token")
        if not token:
            break
    assert seen == ["w5", "w3", "w1"]


@pytest.mark.parametrize(
    "body",
    [
        {"filter": "metrics.acc > 1 OR metrics.acc < 0"},
        {"filter": "params.lr > '1'"},
        {"order_by": ["metrics.acc SIDEWAYS"]},
        {"page_token": "forged"},
        {"run_view_type": "SOMETIMES"},
    ],
)
def test_bad_runs_search_is_400_invalid_parameter(api, exp, body):
    response = api.post("runs/search", {"experiment_ids": [str(exp.pk)], **body})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_experiments_search_filter_and_token(api, exp, workspace):
    for i in range(3):
        make_experiment(workspace, f"wire-more-{i}", creation_time=2000 + i)
    first = api.post("experiments/search", {"filter": "name LIKE 'wire-%'", "max_results": 2}).json()
    assert [e["name"] for e in first["experiments"]] == ["wire-more-2", "wire-more-1"]
    rest = api.post("experiments/search", {"filter": "name LIKE 'wire-%'", "max_results": 2, "page_token": first["next_page_token"]}).json()
    assert [e["name"] for e in rest["experiments"]] == ["wire-more-0", "wire-exp"]
    assert "next_page_token" not in rest


def test_logged_models_search_as_download_artifacts_sends_it(api, exp):
    run = exp.runs.first()
    make_logged_model(exp, name="model", source_run=run)
    make_logged_model(exp, name="other")
    response = api.post("logged-models/search", {"experiment_ids": [str(exp.pk)], "filter": "name = 'model'"})
    assert response.status_code == 200, response.content
    assert [m["info"]["name"] for m in response.json()["models"]] == ["model"]
    response = api.post(
        "logged-models/search",
        {"experiment_ids": [str(exp.pk)], "order_by": [{"field_name": "name", "ascending": False}], "max_results": 1},
    )
    assert [m["info"]["name"] for m in response.json()["models"]] == ["other"]
    assert response.json()["next_page_token"]
