"""Tokens and workspaces as the real mlflow client experiences them."""

import mlflow
import pytest
from mlflow.exceptions import RestException

from accounts import services as account_services
from accounts import tokens
from accounts.models import ApiToken, Role

pytestmark = [pytest.mark.compat, pytest.mark.django_db(transaction=True)]


def error_code(excinfo) -> str:
    return excinfo.value.error_code


def test_a_wrong_token_is_unauthenticated(warden, alice, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "wdn_0123456789ab_not-the-secret")
    with pytest.raises(RestException) as excinfo:
        mlflow.set_experiment("never-created")
    assert error_code(excinfo) == "UNAUTHENTICATED"

    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    with pytest.raises(RestException) as excinfo:
        mlflow.search_experiments()
    assert error_code(excinfo) == "UNAUTHENTICATED"


def test_a_revoked_token_stops_working_on_the_next_call(login, alice):
    token = login(alice)
    experiment = mlflow.set_experiment("compat-revoke")
    assert mlflow.get_experiment(experiment.experiment_id).name == "compat-revoke"

    prefix, _ = tokens.split(token)
    account_services.token_revoke(actor=alice, token=ApiToken.objects.get(prefix=prefix))
    with pytest.raises(RestException) as excinfo:
        mlflow.get_experiment(experiment.experiment_id)
    assert error_code(excinfo) == "UNAUTHENTICATED"


def test_one_workspace_cannot_see_another_workspace_experiment(login, alice, make_user, other_workspace):
    bob = make_user("bob", other_workspace, Role.MEMBER)

    login(alice)
    secret = mlflow.set_experiment("secret-plans")
    with mlflow.start_run() as alices_run:
        mlflow.log_param("plan", "world domination")

    login(bob)
    assert mlflow.get_experiment_by_name("secret-plans") is None
    with pytest.raises(RestException) as excinfo:
        mlflow.MlflowClient().get_run(alices_run.info.run_id)
    assert error_code(excinfo) == "RESOURCE_DOES_NOT_EXIST"
    assert "secret-plans" not in {e.name for e in mlflow.search_experiments()}
    # The same name in bob's own workspace is another experiment, with none of alice's runs.
    bobs = mlflow.set_experiment("secret-plans")
    assert mlflow.MlflowClient().search_runs([bobs.experiment_id]) == []

    login(bob, workspace="acme")  # asking for a workspace he is not a member of: as if it did not exist
    with pytest.raises(RestException) as excinfo:
        mlflow.search_experiments()
    assert error_code(excinfo) == "RESOURCE_DOES_NOT_EXIST"
    assert mlflow.get_experiment_by_name("secret-plans") is None  # the client reads that 404 as "no such name"

    login(alice, workspace="acme")
    assert mlflow.get_experiment_by_name("secret-plans").experiment_id == secret.experiment_id
    runs = mlflow.MlflowClient().search_runs([secret.experiment_id])
    assert [r.info.run_id for r in runs] == [alices_run.info.run_id]
    assert runs[0].data.params == {"plan": "world domination"}


def test_viewers_and_read_only_tokens_read_but_cannot_write(login, alice, make_user, workspace):
    login(alice)
    experiment = mlflow.set_experiment("compat-readers")
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.8)

    viewer = make_user("vera", workspace, Role.VIEWER)
    for user, options in ((viewer, {}), (alice, {"read_only": True})):
        login(user, **options)
        client = mlflow.MlflowClient()
        assert client.get_run(run.info.run_id).data.metrics == {"acc": 0.8}
        with pytest.raises(RestException) as excinfo:
            client.create_run(experiment.experiment_id)
        assert error_code(excinfo) == "PERMISSION_DENIED"
        with pytest.raises(RestException) as excinfo:
            client.log_metric(run.info.run_id, "acc", 0.1)
        assert error_code(excinfo) == "PERMISSION_DENIED"
    login(alice)
    assert mlflow.MlflowClient().get_metric_history(run.info.run_id, "acc")[0].value == 0.8
