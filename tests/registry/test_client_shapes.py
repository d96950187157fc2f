"""The mlflow client's own RestStore (3.17.2) drives the registry API and parses every answer.

The store builds requests exactly as it does against a server (endpoints, HTTP methods, query
strings for GET, JSON bodies otherwise) and parses the answers into its protos and entities.
Only the transport is swapped: ``mlflow.utils.rest_utils.http_request`` hands the request to
Django's test client instead of opening a socket. Over-the-network tests with the whole client
live in tests/compat.
"""

import json

import pytest
import requests
from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
from mlflow.exceptions import MlflowException, RestException
from mlflow.store.model_registry.rest_store import RestStore
from mlflow.utils import rest_utils
from mlflow.utils.rest_utils import MlflowHostCreds

from registry.models import TransitionRequest


@pytest.fixture
def store(client, make_token, member, monkeypatch):
    token = make_token(member)
    sent = []

    def http_request(host_creds, endpoint, method, params=None, json=None, extra_headers=None, **_):
        sent.append((method, endpoint, params, json))
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if method == "GET":
            answer = client.get(endpoint, params or {}, **headers)
        else:
            body = "" if json is None else _dumps(json)
            answer = client.generic(method, endpoint, body, content_type="application/json", **headers)
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers.update({"Content-Type": answer.get("Content-Type", "")})
        return response

    monkeypatch.setattr(rest_utils, "http_request", http_request)
    rest_store = RestStore(lambda: MlflowHostCreds("http://testserver"))
    rest_store.sent = sent
    return rest_store


def _dumps(value):
    return json.dumps(value)


def test_registered_model_lifecycle_through_the_client_store(store):
    created = store.create_registered_model("iris", tags=[RegisteredModelTag("team", "a")], description="flowers")
    assert (created.name, created.description, created.tags) == ("iris", "flowers", {"team": "a"})
    with pytest.raises(RestException) as exc:
        store.create_registered_model("iris")
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"

    assert store.update_registered_model("iris", "better").description == "better"
    store.set_registered_model_tag("iris", RegisteredModelTag("stage", "dev"))
    store.delete_registered_model_tag("iris", "team")
    fetched = store.get_registered_model("iris")
    assert fetched.tags == {"stage": "dev"}
    assert fetched.creation_timestamp > 0

    renamed = store.rename_registered_model("iris", "iris-2")
    assert renamed.name == "iris-2"
    page = store.search_registered_models(max_results=10)
    assert [m.name for m in page] == ["iris-2"] and not page.token
    store.delete_registered_model("iris-2")
    with pytest.raises(RestException) as exc:
        store.get_registered_model("iris-2")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    methods = {(m, e.rsplit("/", 2)[-2] + "/" + e.rsplit("/", 1)[-1]) for m, e, _, _ in store.sent}
    assert ("PATCH", "registered-models/update") in methods and ("DELETE", "registered-models/delete") in methods
    assert ("GET", "registered-models/get") in methods and ("GET", "registered-models/search") in methods


def test_model_versions_stages_and_aliases_through_the_client_store(store, workspace, member, make_run, make_logged_model):
    run = make_run(workspace, user=member)
    logged = make_logged_model(run=run, user=member)
    store.create_registered_model("iris")
    first = store.create_model_version("iris", f"models:/{logged.model_id}", model_id=logged.model_id, tags=[ModelVersionTag("k", "v")])
    assert (first.version, first.status, first.run_id, first.tags) == ("1", "READY", run.run_uuid, {"k": "v"})
    second = store.create_model_version("iris", f"runs:/{run.run_uuid}/model", run_id=run.run_uuid, description="two")
    assert (second.version, second.description) == ("2", "two")
    with pytest.raises(RestException) as exc:
        store.create_model_version("iris", "file:///etc/passwd")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"

    staged = store.transition_model_version_stage("iris", 1, "Production", archive_existing_versions=False)
    assert staged.current_stage == "Production"
    store.transition_model_version_stage("iris", 2, "Production", archive_existing_versions=True)
    assert store.get_model_version("iris", 1).current_stage == "Archived"
    latest = store.get_latest_versions("iris", stages=["Production"])
    assert [v.version for v in latest] == ["2"]
    assert sorted(v.version for v in store.get_latest_versions("iris")) == ["1", "2"]

    assert store.update_model_version("iris", 2, "updated").description == "updated"
    store.set_model_version_tag("iris", 2, ModelVersionTag("env", "prod"))
    store.delete_model_version_tag("iris", 1, "k")
    assert store.get_model_version("iris", 2).tags == {"env": "prod"}
    assert store.get_model_version("iris", 1).tags == {}

    store.set_registered_model_alias("iris", "champion", 2)
    by_alias = store.get_model_version_by_alias("iris", "champion")
    assert (by_alias.version, by_alias.aliases) == ("2", ["champion"])
    assert store.get_registered_model("iris").aliases == {"champion": "2"}
    assert store.get_model_version_by_alias("iris", "latest").version == "2"
    store.delete_registered_model_alias("iris", "champion")
    with pytest.raises(MlflowException):
        store.get_model_version_by_alias("iris", "champion")

    assert store.get_model_version_download_uri("iris", 2) == f"mlflow-artifacts:/{run.experiment.pk}/{run.run_uuid}/artifacts/model"
    assert [v.version for v in store.search_model_versions("name='iris'", order_by=["version_number ASC"])] == ["1", "2"]
    assert [m.name for m in store.search_registered_models("name LIKE 'ir%'", order_by=["name DESC"])] == ["iris"]
    versions = store.search_model_versions(max_results=1)
    assert len(versions) == 1 and versions.token
    rest = store.search_model_versions(max_results=10, page_token=versions.token)
    assert {v.version for v in versions} | {v.version for v in rest} == {"1", "2"}

    store.delete_model_version("iris", 1)
    with pytest.raises(RestException) as exc:
        store.get_model_version("iris", 1)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    # GET requests carry their parameters in the query string, never a body
    assert all(body is None for method, _, _, body in store.sent if method == "GET")


def test_a_governed_transition_reaches_the_client_as_a_clear_error(store, registered, client, make_token, member):
    from registry.models import RegisteredModel

    registered("iris", 1)
    RegisteredModel.objects.filter(name="iris").update(protected=True)
    with pytest.raises(RestException) as exc:
        store.transition_model_version_stage("iris", 1, "Production", archive_existing_versions=False)
    assert exc.value.error_code == "PERMISSION_DENIED"
    assert "transition request" in exc.value.message and "approve" in exc.value.message
    assert TransitionRequest.objects.filter(status="pending").count() == 1
