"""registered-models/search and model-versions/search: MLflow's filters, order_by, signed keyset pages."""

import pytest

from registry.models import RegisteredModel
from tests.registry.conftest import error, ok


def names(body, key="registered_models"):
    return [m["name"] for m in body.get(key, [])]


@pytest.fixture
def catalogue(api, registered):
    registered("alpha", 1)
    registered("Beta", 2)
    registered("gamma-clf", 3)
    ok(api.post("registered-models/set-tag", {"name": "alpha", "key": "team", "value": "vision"}))
    ok(api.post("registered-models/set-tag", {"name": "Beta", "key": "team", "value": "nlp"}))
    ok(api.post("model-versions/set-tag", {"name": "gamma-clf", "version": "2", "key": "validated", "value": "yes"}))


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("", ["Beta", "alpha", "gamma-clf"]),
        ("name = 'alpha'", ["alpha"]),
        ("name != 'alpha'", ["Beta", "gamma-clf"]),
        ("name LIKE '%a'", ["Beta", "alpha"]),
        ("name LIKE 'b%'", []),
        ("name ILIKE 'b%'", ["Beta"]),
        ("name IN ('alpha', 'Beta')", ["Beta", "alpha"]),
        ("name NOT IN ('alpha')", ["Beta", "gamma-clf"]),
        ("tags.team = 'nlp'", ["Beta"]),
        ("tags.team != 'nlp'", ["alpha"]),
        ("tags.`team` LIKE 'vis%'", ["alpha"]),
        ("tags.team = 'nlp' AND name = 'alpha'", []),
        ("name LIKE '%_clf'", ["gamma-clf"]),
    ],
)
def test_registered_model_filters(api, catalogue, filter_string, expected):
    assert names(ok(api.get("registered-models/search", {"filter": filter_string}))) == expected


@pytest.mark.parametrize(
    "filter_string",
    ["name = 'a' OR name = 'b'", "creation_timestamp > 0", "params.x = '1'", "name > 'a'", "tags.team IN ('a')", "name = 'a'; DROP TABLE x", "name ="],
)
def test_bad_model_filters_are_400(api, catalogue, filter_string):
    error(api.get("registered-models/search", {"filter": filter_string}), 400, "INVALID_PARAMETER_VALUE")


def test_model_order_by_and_limits(api, catalogue):
    by_name_desc = ok(api.get("registered-models/search", {"order_by": ["name DESC"]}))
    assert names(by_name_desc) == ["gamma-clf", "alpha", "Beta"]
    recent = ok(api.get("registered-models/search", {"order_by": ["last_updated_timestamp DESC"]}))
    assert names(recent)[0] == "gamma-clf"  # its versions were registered last; tags do not touch the time
    error(api.get("registered-models/search", {"order_by": ["bogus"]}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("registered-models/search", {"order_by": ["name SIDEWAYS"]}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("registered-models/search", {"order_by": ["name", "name DESC"]}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("registered-models/search", {"max_results": 1001}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("registered-models/search", {"max_results": 0}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("registered-models/search", {"max_results": "many"}), 400, "INVALID_PARAMETER_VALUE")


def test_model_pages_cover_everything_once(api):
    for i in range(7):
        ok(api.post("registered-models/create", {"name": f"m{i}"}))
    seen, token, pages = [], None, 0
    while True:
        params = {"max_results": 3, "order_by": ["name DESC"]}
        if token:
            params["page_token"] = token
        body = ok(api.get("registered-models/search", params))
        seen += names(body)
        pages += 1
        token = body.get("next_page_token")
        if not token:
            break
    assert seen == [f"m{i}" for i in reversed(range(7))] and pages == 3


def test_page_tokens_are_bound_to_their_search_and_workspace(api, wire, outsider):
    for i in range(3):
        ok(api.post("registered-models/create", {"name": f"m{i}"}))
    token = ok(api.get("registered-models/search", {"max_results": 1}))["next_page_token"]
    error(api.get("registered-models/search", {"max_results": 1, "page_token": token + "x"}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("registered-models/search", {"max_results": 1, "filter": "name != 'q'", "page_token": token}), 400, "INVALID_PARAMETER_VALUE")
    error(wire(outsider).get("registered-models/search", {"max_results": 1, "page_token": token}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("model-versions/search", {"max_results": 1, "page_token": token}), 400, "INVALID_PARAMETER_VALUE")


def test_search_is_scoped_to_what_the_caller_can_read(api, wire, make_user, workspace, outsider):
    from accounts.models import Role

    ok(api.post("registered-models/create", {"name": "shared"}))
    ok(api.post("registered-models/create", {"name": "private"}))
    RegisteredModel.objects.filter(name="private").update(restricted=True)
    ok(wire(outsider).post("registered-models/create", {"name": "foreign"}))
    colleague = wire(make_user("cole", workspace, Role.MEMBER))
    assert names(ok(colleague.get("registered-models/search"))) == ["shared"]
    assert names(ok(api.get("registered-models/search"))) == ["private", "shared"]
    assert names(ok(wire(outsider).get("registered-models/search"))) == ["foreign"]


def test_prompts_are_left_out_unless_asked_for(api):
    ok(api.post("registered-models/create", {"name": "model"}))
    ok(api.post("registered-models/create", {"name": "prompt", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}))
    assert names(ok(api.get("registered-models/search"))) == ["model"]
    assert names(ok(api.get("registered-models/search", {"filter": "tags.`mlflow.prompt.is_prompt` = 'true'"}))) == ["prompt"]


def test_search_pages_use_a_fixed_number_of_queries(api, registered, django_assert_max_num_queries):
    for i in range(6):
        registered(f"m{i}", 2)
        ok(api.post("registered-models/set-tag", {"name": f"m{i}", "key": "k", "value": "v"}))
        ok(api.post("registered-models/alias", {"name": f"m{i}", "alias": "a", "version": "1"}))
    with django_assert_max_num_queries(14):
        body = ok(api.get("registered-models/search", {"max_results": 100}))
    assert len(body["registered_models"]) == 6
    with django_assert_max_num_queries(12):
        body = ok(api.get("model-versions/search", {"max_results": 100}))
    assert len(body["model_versions"]) == 12


# ---------------------------------------------------------------- model versions


def versions(body):
    return [(v["name"], v["version"]) for v in body.get("model_versions", [])]


@pytest.mark.parametrize(
    "filter_string, expected",
    [
        ("name = 'Beta'", [("Beta", "2"), ("Beta", "1")]),
        ("name='gamma-clf' AND version_number >= 2", [("gamma-clf", "3"), ("gamma-clf", "2")]),
        ("version_number = 3", [("gamma-clf", "3")]),
        ("version_number = '3'", [("gamma-clf", "3")]),
        ("name ILIKE 'beta' AND version_number < 2", [("Beta", "1")]),
        ("version_number != 1 AND name LIKE 'B%'", [("Beta", "2")]),
        ("tags.validated = 'yes'", [("gamma-clf", "2")]),
        ("name IN ('alpha', 'nope')", [("alpha", "1")]),
        ("source_path LIKE 'models:/m-%' AND name = 'alpha'", [("alpha", "1")]),
    ],
)
def test_model_version_filters(api, catalogue, filter_string, expected):
    body = ok(api.get("model-versions/search", {"filter": filter_string, "order_by": ["name ASC", "version_number DESC"]}))
    assert versions(body) == expected


def test_model_version_run_id_filter(api, workspace, make_run):
    run = make_run(workspace)
    ok(api.post("registered-models/create", {"name": "iris"}))
    ok(api.post("model-versions/create", {"name": "iris", "source": f"runs:/{run.run_uuid}/model"}))
    assert versions(ok(api.get("model-versions/search", {"filter": f"run_id = '{run.run_uuid}'"}))) == [("iris", "1")]
    assert versions(ok(api.get("model-versions/search", {"filter": f"run_id IN ('{run.run_uuid}')"}))) == [("iris", "1")]
    assert versions(ok(api.get("model-versions/search", {"filter": "run_id = 'other'"}))) == []


@pytest.mark.parametrize(
    "filter_string",
    ["version_number = 'x'", "version_number = 1.5", "version_number LIKE '1'", "current_stage = 'None'", "source_path IN ('a')", "name = 'a' OR name = 'b'"],
)
def test_bad_version_filters_are_400(api, catalogue, filter_string):
    error(api.get("model-versions/search", {"filter": filter_string}), 400, "INVALID_PARAMETER_VALUE")


def test_model_version_default_order_and_deleted_versions(api, catalogue):
    body = ok(api.get("model-versions/search"))
    assert len(versions(body)) == 6
    stamps = [v["last_updated_timestamp"] for v in body["model_versions"]]
    assert stamps == sorted(stamps, reverse=True)
    ok(api.delete("model-versions/delete", {"name": "Beta", "version": "2"}))
    assert ("Beta", "2") not in versions(ok(api.get("model-versions/search")))
    error(api.get("model-versions/search", {"max_results": 200_001}), 400, "INVALID_PARAMETER_VALUE")
    error(api.get("model-versions/search", {"order_by": ["current_stage"]}), 400, "INVALID_PARAMETER_VALUE")
    ordered = ok(api.get("model-versions/search", {"order_by": ["version_number ASC"]}))
    assert [v for _, v in versions(ordered)] == ["1", "1", "1", "2", "3"]
