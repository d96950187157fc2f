"""The model registry with the real mlflow client: register, alias, load by URI, stages, rename, delete."""

import warnings

import mlflow
import pytest
from mlflow.exceptions import RestException
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from accounts.models import Role
from tests.compat.conftest import PIP_REQUIREMENTS

pytestmark = [pytest.mark.compat, pytest.mark.django_db(transaction=True)]


def constant_classifier(features, labels, constant):
    """A model whose predictions say which version was loaded."""
    return DummyClassifier(strategy="constant", constant=constant).fit(features, labels)


def log_in_run(model, **kwargs):
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model", pip_requirements=PIP_REQUIREMENTS, **kwargs)
    return run.info.run_id, info


def predictions(uri, features):
    return mlflow.pyfunc.load_model(uri).predict(features).tolist()


def test_register_alias_and_load_by_every_model_uri(as_alice, mlflow_client, iris):
    features, labels = iris
    sample = features[:5]
    mlflow.set_experiment("compat-registry")

    classifier = LogisticRegression(max_iter=300).fit(features, labels)
    run_1, info_1 = log_in_run(classifier, registered_model_name="iris-clf")
    assert str(info_1.registered_model_version) == "1"
    run_2, _ = log_in_run(constant_classifier(features, labels, 1))
    version_2 = mlflow.register_model(f"runs:/{run_2}/model", "iris-clf")
    run_3, info_3 = log_in_run(constant_classifier(features, labels, 2))
    version_3 = mlflow.register_model(info_3.model_uri, "iris-clf")
    assert (version_2.version, version_3.version) == ("2", "3")
    assert version_3.run_id == run_3

    mlflow_client.set_registered_model_alias("iris-clf", "champion", "1")
    assert mlflow_client.get_model_version_by_alias("iris-clf", "champion").version == "1"
    assert mlflow_client.get_registered_model("iris-clf").aliases == {"champion": "1"}

    expected = classifier.predict(sample).tolist()
    assert predictions("models:/iris-clf@champion", sample) == expected
    assert predictions("models:/iris-clf/1", sample) == expected
    assert predictions("models:/iris-clf/2", sample) == [1] * 5
    assert predictions("models:/iris-clf/latest", sample) == [2] * 5

    versions = mlflow_client.search_model_versions("name='iris-clf'")
    assert sorted((v.version, v.run_id) for v in versions) == [("1", run_1), ("2", run_2), ("3", run_3)]
    assert all(v.status == "READY" for v in versions)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # stages are deprecated in MLflow, still supported
        moved = mlflow_client.transition_model_version_stage("iris-clf", "2", "Production")
        assert moved.current_stage == "Production"
        assert [v.version for v in mlflow_client.get_latest_versions("iris-clf", stages=["Production"])] == ["2"]
    assert mlflow_client.get_model_version("iris-clf", "2").current_stage == "Production"
    assert predictions("models:/iris-clf/Production", sample) == [1] * 5


def test_rename_and_delete_a_registered_model(login, alice, make_user, other_workspace, mlflow_client, iris):
    features, labels = iris
    login(alice)
    mlflow.set_experiment("compat-registry-lifecycle")
    log_in_run(constant_classifier(features, labels, 0), registered_model_name="iris-clf")
    log_in_run(constant_classifier(features, labels, 2), registered_model_name="iris-clf")
    mlflow_client.set_registered_model_alias("iris-clf", "champion", "2")

    login(make_user("bob", other_workspace, Role.MEMBER))
    with pytest.raises(RestException) as excinfo:
        mlflow_client.get_registered_model("iris-clf")
    assert excinfo.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    login(alice)
    mlflow_client.rename_registered_model("iris-clf", "iris-prod")
    with pytest.raises(RestException) as excinfo:
        mlflow_client.get_registered_model("iris-clf")
    assert excinfo.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    renamed = mlflow_client.get_registered_model("iris-prod")
    assert (renamed.name, renamed.aliases) == ("iris-prod", {"champion": "2"})
    assert predictions("models:/iris-prod@champion", features[:3]) == [2] * 3
    assert sorted(v.version for v in mlflow_client.search_model_versions("name='iris-prod'")) == ["1", "2"]

    mlflow_client.delete_model_version("iris-prod", "1")
    assert [v.version for v in mlflow_client.search_model_versions("name='iris-prod'")] == ["2"]
    mlflow_client.delete_registered_model("iris-prod")
    with pytest.raises(RestException) as excinfo:
        mlflow_client.get_registered_model("iris-prod")
    assert excinfo.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "iris-prod" not in {m.name for m in mlflow_client.search_registered_models()}

    # Deleted is soft (restorable in Warden), yet the client may take the name again: a new, empty model.
    fresh = mlflow_client.create_registered_model("iris-prod")
    assert (fresh.name, fresh.aliases, fresh.latest_versions) == ("iris-prod", {}, [])
    assert mlflow_client.search_model_versions("name='iris-prod'") == []
    with pytest.raises(RestException):
        mlflow_client.get_model_version_by_alias("iris-prod", "champion")
