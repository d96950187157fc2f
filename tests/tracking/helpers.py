"""Small builders for tracking tests, all going through the wire API."""


def create_experiment(api, name="exp", **extra) -> str:
    response = api.post("experiments/create", {"name": name, **extra})
    assert response.status_code == 200, response.content
    return response.json()["experiment_id"]


def create_run(api, experiment_id="0", **extra) -> str:
    response = api.post("runs/create", {"experiment_id": experiment_id, **extra})
    assert response.status_code == 200, response.content
    return response.json()["run"]["info"]["run_id"]


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code, body
    assert body["message"]
    return body
