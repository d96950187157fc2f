"""registered-models/alias: set (POST), get (GET, also 'latest'), delete (DELETE)."""

import pytest

from registry.models import RegisteredModelAlias
from tests.registry.conftest import error, ok


def test_set_get_move_and_delete(api, registered):
    registered("iris", 2)
    assert ok(api.post("registered-models/alias", {"name": "iris", "alias": "champion", "version": "1"})) == {}
    found = ok(api.get("registered-models/alias", {"name": "iris", "alias": "champion"}))["model_version"]
    assert (found["version"], found["aliases"]) == ("1", ["champion"])
    ok(api.post("registered-models/alias", {"name": "iris", "alias": "champion", "version": "2"}))
    assert ok(api.get("registered-models/alias", {"name": "iris", "alias": "champion"}))["model_version"]["version"] == "2"
    model = ok(api.get("registered-models/get", {"name": "iris"}))["registered_model"]
    assert model["aliases"] == [{"alias": "champion", "version": "2"}]
    assert ok(api.delete("registered-models/alias", {"name": "iris", "alias": "champion"})) == {}
    ok(api.delete("registered-models/alias", {"name": "iris", "alias": "champion"}))  # gone already: still fine
    assert not RegisteredModelAlias.objects.exists()


def test_latest_is_the_highest_live_version(api, registered):
    registered("iris", 3)
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Production"}))
    assert ok(api.get("registered-models/alias", {"name": "iris", "alias": "latest"}))["model_version"]["version"] == "3"
    ok(api.delete("model-versions/delete", {"name": "iris", "version": "3"}))
    assert ok(api.get("registered-models/alias", {"name": "iris", "alias": "Latest"}))["model_version"]["version"] == "2"
    ok(api.post("registered-models/create", {"name": "empty"}))
    error(api.get("registered-models/alias", {"name": "empty", "alias": "latest"}), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V12", "has space", "a.b", "a/b", "x" * 256])
def test_reserved_and_malformed_aliases_are_refused(api, registered, alias):
    registered("iris", 1)
    error(api.post("registered-models/alias", {"name": "iris", "alias": alias, "version": "1"}), 400, "INVALID_PARAMETER_VALUE")
    assert not RegisteredModelAlias.objects.exists()


def test_alias_errors(api, wire, registered, viewer, outsider):
    registered("iris", 1)
    error(api.post("registered-models/alias", {"name": "iris", "alias": "a", "version": "7"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.post("registered-models/alias", {"name": "iris", "alias": "a", "version": "x"}), 400, "INVALID_PARAMETER_VALUE")
    error(api.post("registered-models/alias", {"name": "iris", "version": "1"}), 400, "INVALID_PARAMETER_VALUE")
    # a missing alias answers like MLflow: INVALID_PARAMETER_VALUE
    error(api.get("registered-models/alias", {"name": "iris", "alias": "nope"}), 400, "INVALID_PARAMETER_VALUE")
    error(wire(viewer).post("registered-models/alias", {"name": "iris", "alias": "a", "version": "1"}), 403, "PERMISSION_DENIED")
    error(wire(outsider).get("registered-models/alias", {"name": "iris", "alias": "a"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert api.put_bytes("registered-models/alias", b"{}").status_code == 405
