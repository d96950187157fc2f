"""The MLflow wire protocol shared by every endpoint: body parsing, methods, error shape,
unexpected failures, CSRF for browser sessions and the /ajax-api/ mirror."""

import json
import logging
import secrets
import string

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import Role
from experiments import services
from experiments.mlflow_api import experiment_views
from experiments.models import Experiment, Run
from tests.protocol.expect import expect_error, expect_unauthenticated, ok

CREATE = "/api/2.0/mlflow/experiments/create"


@pytest.fixture
def auth(make_token, member):
    return {"HTTP_AUTHORIZATION": f"Bearer {make_token(member)}"}


def post_raw(client, path, body, content_type, **extra):
    return client.post(path, body, content_type=content_type, **extra)


# ------------------------------------------------------------------ bodies


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "text/json"],
)
def test_non_json_content_type_with_a_body_is_400(client, auth, content_type):
    response = post_raw(client, CREATE, json.dumps({"name": "typed"}), content_type, **auth)
    body = expect_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert "application/json" in body["message"]
    assert not Experiment.objects.filter(name="typed").exists()


def test_content_type_is_never_reflected(client, auth):
    hostile = "text/html<script>alert(1)</script>"
    response = post_raw(client, CREATE, '{"name": "x"}', hostile, **auth)
    expect_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert b"<script>" not in response.content


def test_json_content_type_with_charset_is_accepted(client, auth):
    response = post_raw(client, CREATE, json.dumps({"name": "charset"}), "application/json; charset=utf-8", **auth)
    assert ok(response)["experiment_id"]


def test_post_without_a_body_reads_as_no_parameters(client, auth):
    response = client.post(CREATE, "", content_type="text/plain", **auth)
    assert "name" in expect_error(response, 400, "INVALID_PARAMETER_VALUE")["message"]


@pytest.mark.parametrize("raw", ['{"name": ', "{name: 'x'}", "not json", "\xff\xfe", '{"name": "a"} trailing', '"{\\"name\\": "'])
def test_malformed_json_is_400_bad_request(client, auth, raw):
    response = post_raw(client, CREATE, raw.encode("latin-1"), "application/json", **auth)
    expect_error(response, 400, "BAD_REQUEST")
    assert Experiment.objects.filter(is_default=False).count() == 0


@pytest.mark.parametrize("raw", ["[]", "[1, 2]", "42", "null", '"just a string"', '"[1]"'])
def test_json_that_is_not_an_object_is_400_bad_request(client, auth, raw):
    expect_error(post_raw(client, CREATE, raw, "application/json", **auth), 400, "BAD_REQUEST")


def test_double_encoded_json_is_accepted(client, auth):
    body = json.dumps(json.dumps({"name": "twice"}))
    experiment_id = ok(post_raw(client, CREATE, body, "application/json", **auth))["experiment_id"]
    assert Experiment.objects.get(pk=int(experiment_id)).name == "twice"


def test_duplicate_json_keys_are_refused(client, auth):
    response = post_raw(client, CREATE, '{"name": "first", "name": "second"}', "application/json", **auth)
    assert "name" in expect_error(response, 400, "BAD_REQUEST")["message"]
    assert not Experiment.objects.filter(name__in=["first", "second"]).exists()


def test_nested_duplicate_keys_are_refused_too(client, auth):
    body = '{"name": "n", "tags": [{"key": "a", "value": "1", "key": "b"}]}'
    expect_error(post_raw(client, CREATE, body, "application/json", **auth), 400, "BAD_REQUEST")
    assert not Experiment.objects.filter(name="n").exists()


def test_body_over_the_upload_limit_is_413_json(client, auth):
    too_big = json.dumps({"name": "big", "pad": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = post_raw(client, CREATE, too_big, "application/json", **auth)
    expect_error(response, 413, "RESOURCE_LIMIT_EXCEEDED")
    assert not Experiment.objects.filter(name="big").exists()


def test_get_reads_the_query_string(api):
    experiment_id = ok(api.post("experiments/create", {"name": "by-query"}))["experiment_id"]
    got = ok(api.get("experiments/get", {"experiment_id": experiment_id}))
    assert got["experiment"]["name"] == "by-query"


# ------------------------------------------------------------------ methods


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("get", "experiments/create", "POST"),
        ("put", "experiments/create", "POST"),
        ("delete", "runs/get", "GET"),
        ("post", "runs/get", "GET"),
        ("patch", "experiments/search", "POST, GET"),
    ],
)
def test_wrong_method_is_405_with_allow_and_error_shape(client, auth, method, path, allowed):
    response = getattr(client, method)(f"/api/2.0/mlflow/{path}", **auth)
    expect_error(response, 405, "BAD_REQUEST")
    assert response["Allow"] == allowed


def test_wrong_method_writes_nothing_even_unauthenticated(client, workspace):
    response = client.put(CREATE, json.dumps({"name": "put"}), content_type="application/json")
    assert response.status_code == 405
    assert not Experiment.objects.filter(name="put").exists()


# ------------------------------------------------------------------ error shape


def test_every_kind_of_error_has_code_and_message(client, auth, workspace, make_user, wire):
    viewer = wire(make_user("vic", workspace, Role.VIEWER))
    cases = [
        (client.get("/api/2.0/mlflow/experiments/search"), 401, "UNAUTHENTICATED"),
        (client.get("/api/2.0/mlflow/experiments/get", {"experiment_id": "12345"}, **auth), 404, "RESOURCE_DOES_NOT_EXIST"),
        (client.get("/api/2.0/mlflow/experiments/get", {"experiment_id": "abc"}, **auth), 400, "INVALID_PARAMETER_VALUE"),
        (client.get("/api/2.0/mlflow/experiments/get", **auth), 400, "INVALID_PARAMETER_VALUE"),
        (post_raw(client, CREATE, "{", "application/json", **auth), 400, "BAD_REQUEST"),
        (client.get(CREATE, **auth), 405, "BAD_REQUEST"),
        (viewer.post("experiments/create", {"name": "v"}), 403, "PERMISSION_DENIED"),
        (client.get("/api/2.0/mlflow/experiments/search", **auth, HTTP_X_MLFLOW_WORKSPACE="nope"), 404, "RESOURCE_DOES_NOT_EXIST"),
    ]
    for response, status, code in cases:
        body = expect_error(response, status, code)
        assert set(body) >= {"error_code", "message"}


def test_already_exists_is_400(api):
    ok(api.post("experiments/create", {"name": "dup"}))
    expect_error(api.post("experiments/create", {"name": "dup"}), 400, "RESOURCE_ALREADY_EXISTS")


# ------------------------------------------------------------------ unexpected failures


def _explode(*args, **kwargs):
    raise RuntimeError("boom: secret internals at /srv/db password=hunter2")


def test_unexpected_exception_in_a_write_is_500_json(api, monkeypatch, caplog):
    monkeypatch.setattr(services, "experiment_create", _explode)
    with caplog.at_level(logging.ERROR, logger="warden.mlflow_api"):
        response = api.post("experiments/create", {"name": "kaboom"})
    body = expect_error(response, 500, "INTERNAL_ERROR")
    assert b"<html" not in response.content.lower()
    assert "hunter2" not in body["message"] and "boom" not in body["message"]
    assert any("experiments/create" in record.getMessage() for record in caplog.records)
    assert not Experiment.objects.filter(name="kaboom").exists()


def test_unexpected_exception_in_a_read_is_500_json(api, monkeypatch):
    monkeypatch.setattr(experiment_views, "search_experiments", _explode)
    expect_error(api.get("experiments/search"), 500, "INTERNAL_ERROR")
    expect_error(api.post("experiments/search", {}), 500, "INTERNAL_ERROR")


def test_unexpected_exception_in_run_creation_is_500_json(api, monkeypatch):
    monkeypatch.setattr(services, "run_create", _explode)
    expect_error(api.post("runs/create", {"experiment_id": "0"}), 500, "INTERNAL_ERROR")
    assert not Run.objects.exists()


# ------------------------------------------------------------------ browser sessions and CSRF


def _csrf_secret() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


@pytest.fixture
def browser(member):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    return browser


def test_session_can_read_without_csrf_token(browser):
    assert "Default" in {e["name"] for e in ok(browser.get("/api/2.0/mlflow/experiments/search"))["experiments"]}


def test_session_post_without_csrf_token_is_refused(browser):
    response = browser.post(CREATE, json.dumps({"name": "csrf-less"}), content_type="application/json")
    expect_error(response, 403, "PERMISSION_DENIED")
    assert not Experiment.objects.filter(name="csrf-less").exists()


def test_session_post_with_cookie_but_no_header_is_refused(browser):
    browser.cookies[settings.CSRF_COOKIE_NAME] = _csrf_secret()
    response = browser.post(CREATE, json.dumps({"name": "half"}), content_type="application/json")
    expect_error(response, 403, "PERMISSION_DENIED")
    assert not Experiment.objects.filter(name="half").exists()


def test_session_post_with_csrf_token_is_accepted(browser, member):
    secret = _csrf_secret()
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret
    response = browser.post(CREATE, json.dumps({"name": "with-csrf"}), content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    experiment = Experiment.objects.get(pk=int(ok(response)["experiment_id"]))
    assert experiment.name == "with-csrf" and experiment.created_by == member


def test_session_post_from_a_foreign_origin_is_refused(browser):
    secret = _csrf_secret()
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret
    response = browser.post(
        CREATE,
        json.dumps({"name": "cross-site"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=secret,
        HTTP_ORIGIN="https://evil.example",
    )
    expect_error(response, 403, "PERMISSION_DENIED")
    assert not Experiment.objects.filter(name="cross-site").exists()


def test_token_requests_need_no_csrf_token_even_with_a_session(browser, make_token, member):
    token = make_token(member)
    response = browser.post(CREATE, json.dumps({"name": "token-wins"}), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok(response)["experiment_id"]


def test_bad_token_is_not_rescued_by_a_session(browser):
    response = browser.get("/api/2.0/mlflow/experiments/search", HTTP_AUTHORIZATION="Bearer wdn_000000000000_nope")
    expect_unauthenticated(response)


def test_logged_out_session_is_401(browser):
    browser.logout()
    expect_unauthenticated(browser.get("/api/2.0/mlflow/experiments/search"))


# ------------------------------------------------------------------ /ajax-api/ mirror


def test_ajax_api_serves_the_same_routes(client, auth, member):
    created = ok(post_raw(client, "/ajax-api/2.0/mlflow/experiments/create", json.dumps({"name": "via-ajax"}), "application/json", **auth))
    experiment_id = created["experiment_id"]
    plain = ok(client.get("/api/2.0/mlflow/experiments/get", {"experiment_id": experiment_id}, **auth))
    ajax = ok(client.get("/ajax-api/2.0/mlflow/experiments/get", {"experiment_id": experiment_id}, **auth))
    assert plain == ajax and ajax["experiment"]["name"] == "via-ajax"
    run = ok(post_raw(client, "/ajax-api/2.0/mlflow/runs/create", json.dumps({"experiment_id": experiment_id}), "application/json", **auth))
    run_id = run["run"]["info"]["run_id"]
    assert ok(client.get("/ajax-api/2.0/mlflow/runs/get", {"run_id": run_id}, **auth))["run"]["info"]["run_id"] == run_id
    searched = ok(client.get("/ajax-api/2.0/mlflow/experiments/search", **auth))
    assert searched == ok(client.get("/api/2.0/mlflow/experiments/search", **auth))


def test_ajax_api_enforces_the_same_rules(client, auth, workspace):
    expect_unauthenticated(client.get("/ajax-api/2.0/mlflow/experiments/search"))
    expect_error(client.get("/ajax-api/2.0/mlflow/experiments/create", **auth), 405, "BAD_REQUEST")
    expect_error(post_raw(client, "/ajax-api/2.0/mlflow/experiments/create", "{", "application/json", **auth), 400, "BAD_REQUEST")
    response = client.get("/ajax-api/2.0/mlflow/experiments/search", **auth, HTTP_X_MLFLOW_WORKSPACE="globex")
    expect_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


# ------------------------------------------------------------------ one value per parameter


def test_repeated_scalar_query_parameter_is_refused(client, auth, api):
    first = ok(api.post("experiments/create", {"name": "one"}))["experiment_id"]
    second = ok(api.post("experiments/create", {"name": "two"}))["experiment_id"]
    response = client.get(f"/api/2.0/mlflow/experiments/get?experiment_id={first}&experiment_id={second}", **auth)
    assert "experiment_id" in expect_error(response, 400, "INVALID_PARAMETER_VALUE")["message"]


def test_repeated_list_query_parameter_is_a_list(client, auth):
    response = client.get("/api/2.0/mlflow/experiments/search?order_by=name&order_by=experiment_id", **auth)
    assert ok(response)["experiments"]


def test_get_with_a_body_is_refused(client, auth, api):
    experiment_id = ok(api.post("experiments/create", {"name": "body-get"}))["experiment_id"]
    response = client.generic(
        "GET",
        f"/api/2.0/mlflow/experiments/get?experiment_id={experiment_id}",
        json.dumps({"experiment_id": "0"}),
        content_type="application/json",
        **auth,
    )
    expect_error(response, 400, "INVALID_PARAMETER_VALUE")
