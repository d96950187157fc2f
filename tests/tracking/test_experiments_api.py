import pytest

from accounts.models import Role
from experiments.models import Experiment
from tests.tracking.helpers import assert_error, create_experiment, create_run

pytestmark = pytest.mark.django_db


def test_create_and_get_experiment(api):
    experiment_id = create_experiment(api, "churn", tags=[{"key": "team", "value": "risk"}])
    body = api.get("experiments/get", {"experiment_id": experiment_id}).json()["experiment"]
    assert body["experiment_id"] == experiment_id
    assert body["name"] == "churn"
    assert body["lifecycle_stage"] == "active"
    assert body["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    assert body["tags"] == [{"key": "team", "value": "risk"}]
    assert body["creation_time"] == body["last_update_time"] > 0


def test_default_experiment_is_zero_in_every_workspace(wire, make_user, workspace, other_workspace):
    a = wire(make_user("ann", workspace))
    b = wire(make_user("bob", other_workspace))
    for client, ws in ((a, workspace), (b, other_workspace)):
        body = client.get("experiments/get", {"experiment_id": "0"}).json()["experiment"]
        assert body["experiment_id"] == "0"
        assert body["name"] == "Default"
    assert Experiment.objects.filter(is_default=True).count() == 2


def test_get_by_name_missing_is_404_in_mlflow_shape(api):
    assert_error(api.get("experiments/get-by-name", {"experiment_name": "absent"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_duplicate_name_is_400_already_exists(api):
    create_experiment(api, "dup")
    body = assert_error(api.post("experiments/create", {"name": "dup"}), 400, "RESOURCE_ALREADY_EXISTS")
    assert "dup" in body["message"]
    assert "psycopg" not in body["message"].lower() and "integrity" not in body["message"].lower()


def test_same_name_allowed_in_other_workspace(wire, make_user, workspace, other_workspace):
    create_experiment(wire(make_user("ann", workspace)), "shared-name")
    create_experiment(wire(make_user("bob", other_workspace)), "shared-name")


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 501}, {"name": 5.5e300, "tags": "nope"}, {"name": "a", "artifact_location": "s3://b/x"}],
)
def test_create_rejects_bad_input(api, body):
    assert_error(api.post("experiments/create", body), 400, "INVALID_PARAMETER_VALUE")
    assert not Experiment.objects.filter(is_default=False).exists()


def test_non_numeric_experiment_id_is_invalid(api):
    assert_error(api.get("experiments/get", {"experiment_id": "abc"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.get("experiments/get", {"experiment_id": "99999999"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_rename_delete_restore(api):
    experiment_id = create_experiment(api, "old")
    run_id = create_run(api, experiment_id)
    assert api.post("experiments/update", {"experiment_id": experiment_id, "new_name": "new"}).status_code == 200
    assert api.get("experiments/get-by-name", {"experiment_name": "new"}).json()["experiment"]["experiment_id"] == experiment_id

    assert api.post("experiments/delete", {"experiment_id": experiment_id}).json() == {}
    assert api.get("experiments/get", {"experiment_id": experiment_id}).json()["experiment"]["lifecycle_stage"] == "deleted"
    assert api.get("runs/get", {"run_id": run_id}).json()["run"]["info"]["lifecycle_stage"] == "deleted"
    assert_error(api.post("runs/create", {"experiment_id": experiment_id}), 400, "INVALID_PARAMETER_VALUE")
    active = api.post("experiments/search", {}).json()["experiments"]
    assert experiment_id not in [e["experiment_id"] for e in active]
    deleted = api.post("experiments/search", {"view_type": "DELETED_ONLY"}).json()["experiments"]
    assert [e["experiment_id"] for e in deleted] == [experiment_id]

    assert api.post("experiments/restore", {"experiment_id": experiment_id}).status_code == 200
    assert api.get("runs/get", {"run_id": run_id}).json()["run"]["info"]["lifecycle_stage"] == "active"


def test_default_experiment_cannot_be_deleted(api, wire, make_user, workspace):
    admin = wire(make_user("root", workspace, Role.ADMIN))
    assert_error(admin.post("experiments/delete", {"experiment_id": "0"}), 400, "INVALID_PARAMETER_VALUE")


def test_experiment_tags(api):
    experiment_id = create_experiment(api)
    assert api.post("experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "v"}).status_code == 200
    assert api.post("experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "w"}).status_code == 200
    tags = api.get("experiments/get", {"experiment_id": experiment_id}).json()["experiment"]["tags"]
    assert tags == [{"key": "k", "value": "w"}]
    assert api.post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": "k"}).status_code == 200
    assert "tags" not in api.get("experiments/get", {"experiment_id": experiment_id}).json()["experiment"]
    assert_error(api.post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": "k"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(
        api.post("experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "../x", "value": "v"}), 400, "INVALID_PARAMETER_VALUE"
    )


def test_member_manages_own_experiment_but_not_others(wire, make_user, workspace):
    owner = wire(make_user("owner", workspace))
    other = wire(make_user("other", workspace))
    experiment_id = create_experiment(owner, "mine")
    # another member may log runs (EDIT) but not rename or delete (MANAGE)
    create_run(other, experiment_id)
    assert_error(other.post("experiments/delete", {"experiment_id": experiment_id}), 403, "PERMISSION_DENIED")
    assert_error(other.post("experiments/update", {"experiment_id": experiment_id, "new_name": "x"}), 403, "PERMISSION_DENIED")
    maintainer = wire(make_user("maint", workspace, Role.MAINTAINER))
    assert maintainer.post("experiments/delete", {"experiment_id": experiment_id}).status_code == 200


def test_viewer_reads_but_cannot_create(wire, make_user, workspace, api):
    experiment_id = create_experiment(api, "visible")
    viewer = wire(make_user("vic", workspace, Role.VIEWER))
    assert viewer.get("experiments/get", {"experiment_id": experiment_id}).status_code == 200
    assert_error(viewer.post("experiments/create", {"name": "nope"}), 403, "PERMISSION_DENIED")
    assert_error(viewer.post("runs/create", {"experiment_id": experiment_id}), 403, "PERMISSION_DENIED")


def test_restricted_experiment_invisible_to_other_members(wire, make_user, workspace):
    owner_user = make_user("owner", workspace)
    owner = wire(owner_user)
    experiment_id = create_experiment(owner, "secret")
    Experiment.objects.filter(pk=int(experiment_id)).update(restricted=True)
    other = wire(make_user("other", workspace))
    missing = other.get("experiments/get", {"experiment_id": "424242"})
    hidden = other.get("experiments/get", {"experiment_id": experiment_id})
    assert hidden.status_code == missing.status_code == 404
    assert_error(other.get("experiments/get-by-name", {"experiment_name": "secret"}), 404, "RESOURCE_DOES_NOT_EXIST")
    names = [e["name"] for e in other.post("experiments/search", {}).json()["experiments"]]
    assert "secret" not in names
    assert owner.get("experiments/get", {"experiment_id": experiment_id}).status_code == 200


def test_other_workspace_experiment_is_not_found(wire, make_user, workspace, other_workspace):
    a = wire(make_user("ann", workspace))
    b = wire(make_user("bob", other_workspace))
    experiment_id = create_experiment(a, "private")
    run_id = create_run(a, experiment_id)
    assert_error(b.get("experiments/get", {"experiment_id": experiment_id}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(b.get("experiments/get-by-name", {"experiment_name": "private"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(b.get("runs/get", {"run_id": run_id}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(b.post("runs/log-batch", {"run_id": run_id, "params": [{"key": "a", "value": "b"}]}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert b.post("runs/search", {"experiment_ids": [experiment_id]}).json().get("runs", []) == []


def test_search_experiments_filter_order_and_pages(api):
    for name in ("alpha-x", "beta-x", "gamma-x"):
        create_experiment(api, name)
    body = api.post("experiments/search", {"filter": "name LIKE '%-x'", "order_by": ["name ASC"], "max_results": 2}).json()
    assert [e["name"] for e in body["experiments"]] == ["alpha-x", "beta-x"]
    rest = api.post(
        "experiments/search",
        {"filter": "name LIKE '%-x'", "order_by": ["name ASC"], "max_results": 2, "page_token": body["next_page_token"]},
    ).json()
    assert [e["name"] for e in rest["experiments"]] == ["gamma-x"]
    assert "next_page_token" not in rest
    assert_error(api.post("experiments/search", {"max_results": 50001}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("experiments/search", {"filter": "name ==="}), 400, "INVALID_PARAMETER_VALUE")


def test_invisible_run_answers_byte_for_byte_like_a_missing_one(wire, make_user, workspace):
    owner = wire(make_user("owner", workspace))
    experiment_id = create_experiment(owner, "hidden")
    run_id = create_run(owner, experiment_id)
    Experiment.objects.filter(pk=int(experiment_id)).update(restricted=True)
    other = wire(make_user("other", workspace))
    hidden = other.get("runs/get", {"run_id": run_id})
    missing = other.get("runs/get", {"run_id": "f" * 32})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(run_id.encode(), b"X") == missing.content.replace(b"f" * 32, b"X")


@pytest.mark.parametrize("odd", ["²", "³"])
def test_ids_and_numbers_in_non_ascii_digits_are_invalid_parameters(api, odd):
    api.client.raise_request_exception = False
    assert_error(api.get("experiments/get", {"experiment_id": odd}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("experiments/search", {"max_results": odd}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("experiments/search", {"filter": f"experiment_id = '{odd}'"}), 400, "INVALID_PARAMETER_VALUE")
    response = api.client.get(f"/api/v1/workspaces/acme/experiments/{odd}/protection", **api.headers)
    assert response.status_code == 400



def test_a_team_key_in_non_ascii_digits_is_a_missing_team(api, admin, make_token):
    experiment_id = create_experiment(api, "granted")
    api.client.raise_request_exception = False
    path = f"/api/v1/workspaces/acme/experiments/{experiment_id}/grants/teams/²"
    assert api.client.delete(path, HTTP_AUTHORIZATION=f"Bearer {make_token(admin)}").status_code == 404
