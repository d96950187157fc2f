"""Traversal attempts through the real URL router never leave the run's folder.

The attacker is a workspace admin (MANAGE on everything in "acme"), so permission checks do not
stop anything: only the canonicaliser and the server-derived keys do. Each request must be
answered 400 or 404 with MLflow's JSON error, and afterwards not one byte may have changed
anywhere: outside the store, in another workspace's artifacts, or elsewhere in the store.
"""

import json

import pytest

from accounts.models import Role
from tests.artifacts.conftest import ARTIFACTS, files_under, run_url

PAYLOAD = b"pwned"

# Tails appended to "<exp>/<run>/artifacts/". The test client, like a WSGI server, decodes the URL
# once; these are the raw request paths an attacker sends.
TAILS = [
    "../../../../../outside/secret.txt",
    "../../../../../../../../../../etc/passwd",
    "a/../../../../../outside/new.txt",
    "..%2f..%2f..%2f..%2f..%2foutside%2fsecret.txt",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside/secret.txt",
    "%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt",
    "%252e%252e/%252e%252e/%252e%252e/%252e%252e/%252e%252e/outside/secret.txt",
    "%252e%252e%252f%252e%252e%252f%252e%252e%252foutside",
    "..%252f..%252f..%252f..%252f..%252foutside%252fsecret.txt",
    "%25252e%25252e/%25252e%25252e/outside",
    "..%5c..%5c..%5c..%5c..%5coutside%5csecret.txt",
    "..\\..\\..\\..\\..\\outside\\secret.txt",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/outside/secret.txt",
    "%ef%bc%8e%ef%bc%8e/%ef%bc%8e%ef%bc%8e/%ef%bc%8e%ef%bc%8e/%ef%bc%8e%ef%bc%8e/outside/secret.txt",
    "/../../../../outside/secret.txt",
    "%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2foutside",
    "%2fetc%2fpasswd",
    "//etc/passwd",
    "a//../../../../../outside",
    "./../../../../../outside/secret.txt",
    "a/./b.txt",
    ".",
    "..",
    "a%00/../../../../../outside/secret.txt",
    "secret.txt%00.png",
    "a%0a/../../../../../outside",
    "a%0d%0aSet-Cookie:x=1",
    "a%23/../../../../../outside/secret.txt",
    "a%3f/../../../../../outside/secret.txt",
    "a;/../../../../../outside/secret.txt",
    "C:/Windows/win.ini",
    "c:%5cwindows%5cwin.ini",
    "x" * 300,
]

# Whole paths that try to leave the run through the experiment/run segments.
WHOLE = [
    "../../outside/secret.txt",
    "%2e%2e/%2e%2e/outside",
    "{exp}/{run}/../../../outside/secret.txt",
    "{exp}/{run}/artifacts/../../{their_exp}/{their_run}/artifacts/weights.bin",
    "{exp}/{run}/artifacts/../../../../{their_ws}/{their_exp_pk}/{their_run}/artifacts/weights.bin",
    "{their_ws}/{their_exp_pk}/{their_run}/artifacts/weights.bin",
    "{exp}/{their_run}/artifacts/weights.bin",
    "{exp}/{run}",
    "{exp}",
    "",
    "/",
    ".incoming",
    "{exp}/{run}/artifacts/%2e%2e/%2e%2e/%2e%2e/%2e%2e/.incoming",
]


@pytest.fixture
def scene(tmp_path, artifact_root, make_user, workspace, other_workspace, wire, make_experiment, make_run):
    admin = make_user("root", workspace, Role.ADMIN)
    attacker = wire(admin)
    run = make_run(make_experiment(workspace, created_by=admin), user=admin)
    assert attacker.put_bytes(run_url(run, "own.txt"), b"own").status_code == 200

    stranger = make_user("gus", other_workspace, Role.ADMIN)
    theirs = make_run(make_experiment(other_workspace, created_by=stranger), user=stranger)
    assert wire(stranger).put_bytes(run_url(theirs, "weights.bin"), b"theirs").status_code == 200

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (tmp_path / "store" / "canary.txt").write_bytes(b"canary")
    values = {
        "exp": run.experiment.wire_id,
        "run": run.run_uuid,
        "their_exp": theirs.experiment.wire_id,
        "their_exp_pk": theirs.experiment.pk,
        "their_run": theirs.run_uuid,
        "their_ws": other_workspace.pk,
    }
    return attacker, run, values


def _urls(run, values, prefix=ARTIFACTS):
    base = f"{prefix}/{run.experiment.wire_id}/{run.run_uuid}/artifacts/"
    return [base + tail for tail in TAILS] + [f"{prefix}/{whole.format(**values)}" for whole in WHOLE]


def _assert_refused(response, what):
    assert response.status_code in (400, 404), (what, response.status_code, response.content[:200])
    data = json.loads(response.content)
    assert data["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"), (what, data)
    assert "secret" not in data["message"].replace("secret.txt", "")
    assert b"theirs" not in response.content and b"canary" not in response.content


@pytest.mark.parametrize("prefix", [ARTIFACTS, "/ajax-api/2.0/mlflow-artifacts/artifacts"])
def test_no_request_escapes_the_run(scene, tmp_path, prefix):
    attacker, run, values = scene
    before = files_under(tmp_path)
    for url in _urls(run, values, prefix):
        _assert_refused(attacker.get(url), ("GET", url))
        _assert_refused(attacker.put_bytes(url, PAYLOAD), ("PUT", url))
        _assert_refused(attacker.delete(url), ("DELETE", url))
        mpu = url.replace("/mlflow-artifacts/artifacts/", "/mlflow-artifacts/mpu/create/", 1)
        if mpu != url:
            response = attacker.post(mpu, {"path": "x", "num_parts": 1})
            _assert_refused(response, ("MPU", mpu))
    after = files_under(tmp_path)
    assert after == before
    assert not any(PAYLOAD in data for data in after.values())


def test_no_listing_escapes_the_run(scene, tmp_path):
    attacker, run, values = scene
    before = files_under(tmp_path)
    prefix = f"{run.experiment.wire_id}/{run.run_uuid}/artifacts/"
    paths = [prefix + tail for tail in TAILS] + [whole.format(**values) for whole in WHOLE if whole]
    for raw in paths:
        # the query string, decoded once by Django, as the client's requests library sends it
        response = attacker.get(ARTIFACTS, {"path": raw})
        _assert_refused(response, ("LIST", raw))
        assert "files" not in json.loads(response.content)
    for tail in TAILS + ["../../..", "../" + values["their_run"], "/"]:
        response = attacker.get("artifacts/list", {"run_id": run.run_uuid, "path": tail})
        _assert_refused(response, ("artifacts/list", tail))
    assert files_under(tmp_path) == before


def test_the_run_itself_still_works_afterwards(scene):
    attacker, run, _ = scene
    response = attacker.get(run_url(run, "own.txt"))
    assert b"".join(response.streaming_content) == b"own"
