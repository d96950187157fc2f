"""The mlflow-artifacts proxy and artifacts/list through the Django test client."""

import hashlib
import json
import os
import tracemalloc

import pytest

from accounts.models import Role
from experiments.artifacts.paths import logged_model_artifact_root, run_artifact_root
from experiments.models import LifecycleStage
from tests.artifacts.conftest import ARTIFACTS, GeneratedStream, files_under, model_url, run_url

MiB = 1024 * 1024


def body(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return json.loads(response.content)


def downloaded(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


# ---------------------------------------------------------------- round trips


def test_run_put_get_round_trip(owner_api, run, artifact_root):
    response = owner_api.put_bytes(run_url(run, "config.json"), b'{"features": 4}')
    assert response.status_code == 200
    assert body(response) == {}
    stored = artifact_root / run_artifact_root(run) / "config.json"
    assert stored.read_bytes() == b'{"features": 4}'

    response = owner_api.get(run_url(run, "config.json"))
    assert downloaded(response) == b'{"features": 4}'
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="config.json"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Content-Length"] == "15"


def test_overwrite_replaces_the_file(owner_api, run):
    owner_api.put_bytes(run_url(run, "notes.txt"), b"first version, longer")
    owner_api.put_bytes(run_url(run, "notes.txt"), b"second")
    assert downloaded(owner_api.get(run_url(run, "notes.txt"))) == b"second"


def test_html_and_non_ascii_names_download_as_inert_attachments(owner_api, run):
    owner_api.put_bytes(run_url(run, "report/estimator.html"), b"<script>alert(1)</script>")
    response = owner_api.get(run_url(run, "report/estimator.html"))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    owner_api.put_bytes(run_url(run, "données été.csv"), b"a,b\n")
    response = owner_api.get(run_url(run, "données été.csv"))
    assert downloaded(response) == b"a,b\n"
    assert "filename*=utf-8''donn%C3%A9es%20%C3%A9t%C3%A9.csv" in response["Content-Disposition"]


def test_empty_file(owner_api, run):
    assert owner_api.put_bytes(run_url(run, "empty"), b"").status_code == 200
    assert downloaded(owner_api.get(run_url(run, "empty"))) == b""


def test_logged_model_put_get_and_listing(owner_api, logged_model, artifact_root):
    files = {
        "MLmodel": b"flavors: {}\n",
        "model.pkl": os.urandom(3000),
        "requirements.txt": b"scikit-learn\n",
        "metadata/MLmodel": b"flavors: {}\n",
        "metadata/nested/deeper.txt": b"deep",
    }
    for name, data in files.items():
        response = owner_api.put_bytes(model_url(logged_model, name), data)
        assert response.status_code == 200, response.content
    root = artifact_root / logged_model_artifact_root(logged_model)
    assert files_under(root) == files
    for name, data in files.items():
        assert downloaded(owner_api.get(model_url(logged_model, name))) == data

    # what the client's list_artifacts sends: path=<exp>/models/<id>/artifacts[/<dir>]
    prefix = f"{logged_model.experiment.wire_id}/models/{logged_model.model_id}/artifacts"
    listing = body(owner_api.get(ARTIFACTS, {"path": prefix}))
    assert listing == {
        "files": [
            {"path": "MLmodel", "is_dir": False, "file_size": len(files["MLmodel"])},
            {"path": "metadata", "is_dir": True},
            {"path": "model.pkl", "is_dir": False, "file_size": 3000},
            {"path": "requirements.txt", "is_dir": False, "file_size": len(files["requirements.txt"])},
        ]
    }
    nested = body(owner_api.get(ARTIFACTS, {"path": f"{prefix}/metadata"}))
    assert nested == {
        "files": [
            {"path": "MLmodel", "is_dir": False, "file_size": len(files["metadata/MLmodel"])},
            {"path": "nested", "is_dir": True},
        ]
    }
    assert body(owner_api.get(ARTIFACTS, {"path": f"{prefix}/metadata/"})) == nested


def test_listings_of_nothing_and_of_a_file_are_empty(owner_api, run):
    prefix = f"{run.experiment.wire_id}/{run.run_uuid}/artifacts"
    assert body(owner_api.get(ARTIFACTS, {"path": prefix})) == {}  # nothing uploaded yet
    owner_api.put_bytes(run_url(run, "a.txt"), b"x")
    assert body(owner_api.get(ARTIFACTS, {"path": f"{prefix}/missing-dir"})) == {}
    assert body(owner_api.get(ARTIFACTS, {"path": f"{prefix}/a.txt"})) == {}


def test_tracking_list_artifacts(owner_api, run):
    for name in ("config.json", "plots/roc.png", "plots/pr.png", "plots/more/cm.png"):
        owner_api.put_bytes(run_url(run, name), b"12345")
    root_uri = f"mlflow-artifacts:/{run.experiment.wire_id}/{run.run_uuid}/artifacts"

    response = owner_api.get("artifacts/list", {"run_id": run.run_uuid})
    assert body(response) == {
        "root_uri": root_uri,
        "files": [
            {"path": "config.json", "is_dir": False, "file_size": 5},
            {"path": "plots", "is_dir": True},
        ],
    }
    response = owner_api.get("artifacts/list", {"run_id": run.run_uuid, "path": "plots", "page_token": ""})
    assert body(response) == {
        "root_uri": root_uri,
        "files": [
            {"path": "plots/more", "is_dir": True},
            {"path": "plots/pr.png", "is_dir": False, "file_size": 5},
            {"path": "plots/roc.png", "is_dir": False, "file_size": 5},
        ],
    }
    response = owner_api.get("artifacts/list", {"run_uuid": run.run_uuid, "path": "plots/more"})
    assert body(response)["files"] == [{"path": "plots/more/cm.png", "is_dir": False, "file_size": 5}]
    assert body(owner_api.get("artifacts/list", {"run_id": run.run_uuid, "path": "nothing"})) == {"root_uri": root_uri}
    # the ajax-api prefix serves the same
    ajax = owner_api.get("/ajax-api/2.0/mlflow/artifacts/list", {"run_id": run.run_uuid})
    assert body(ajax)["root_uri"] == root_uri


def test_tracking_list_validates_its_parameters(owner_api, run):
    assert owner_api.get("artifacts/list", {}).status_code == 400
    response = owner_api.get("artifacts/list", {"run_id": run.run_uuid, "run_uuid": "f" * 32})
    assert response.status_code == 400
    response = owner_api.get(f"artifacts/list?run_id={run.run_uuid}&path=a&path=b")
    assert body(response)["error_code"] == "INVALID_PARAMETER_VALUE"
    response = owner_api.get("artifacts/list", {"run_id": run.run_uuid, "path": "../other"})
    assert response.status_code == 400
    assert body(response)["error_code"] == "INVALID_PARAMETER_VALUE"
    response = owner_api.get("artifacts/list", {"run_id": "f" * 32})
    assert response.status_code == 404
    assert body(response) == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Run with id={'f' * 32} not found"}


def test_listing_needs_exactly_one_path(owner_api, run):
    assert body(owner_api.get(ARTIFACTS))["error_code"] == "INVALID_PARAMETER_VALUE"
    prefix = f"{run.experiment.wire_id}/{run.run_uuid}/artifacts"
    response = owner_api.get(f"{ARTIFACTS}?path={prefix}&path=0/{'a' * 32}/artifacts")
    assert response.status_code == 400


def test_default_experiment_zero(wire, make_user, workspace, make_experiment, make_run):
    user = make_user("dora", workspace, Role.MEMBER)
    run = make_run(make_experiment(workspace, default=True), user=user)
    api = wire(user)
    assert api.put_bytes(f"{ARTIFACTS}/0/{run.run_uuid}/artifacts/x.json", b"{}").status_code == 200
    assert downloaded(api.get(f"{ARTIFACTS}/0/{run.run_uuid}/artifacts/x.json")) == b"{}"
    # the experiment's own number is not its wire id: "0" only
    response = api.get(f"{ARTIFACTS}/{run.experiment.pk}/{run.run_uuid}/artifacts/x.json")
    assert response.status_code == 404


# ---------------------------------------------------------------- errors


def test_missing_file_is_404_and_a_directory_is_400(owner_api, run):
    response = owner_api.get(run_url(run, "nope.bin"))
    assert response.status_code == 404
    assert body(response)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    owner_api.put_bytes(run_url(run, "dir/file"), b"x")
    response = owner_api.get(run_url(run, "dir"))
    assert response.status_code == 400
    assert body(response)["error_code"] == "INVALID_PARAMETER_VALUE"
    assert owner_api.get(run_url(run)).status_code == 400  # the root is a folder too


def test_upload_conflicts_with_existing_file_or_folder(owner_api, run, artifact_root):
    owner_api.put_bytes(run_url(run, "dir/file"), b"x")
    response = owner_api.put_bytes(run_url(run, "dir"), b"replace a folder?")
    assert response.status_code == 400
    response = owner_api.put_bytes(run_url(run, "dir/file/child"), b"below a file?")
    assert response.status_code == 400
    assert body(response)["error_code"] == "INVALID_PARAMETER_VALUE"
    response = owner_api.put_bytes(run_url(run), b"to the root?")
    assert response.status_code == 400
    assert files_under(artifact_root / run_artifact_root(run)) == {"dir/file": b"x"}
    assert os.listdir(artifact_root / ".incoming") == []  # staging is cleaned up


def test_bench_probe_missing_file_outside_any_run(owner_api):
    response = owner_api.get(f"{ARTIFACTS}/bench-prefix/missing.bin")
    assert response.status_code == 404
    assert body(response) == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "No such artifact: 'bench-prefix/missing.bin'",
    }


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_unauthenticated_requests_are_401(client, run, method):
    response = getattr(client, method)(run_url(run, "a.txt"))
    assert response.status_code == 401
    assert json.loads(response.content)["error_code"] == "UNAUTHENTICATED"


def test_other_methods_are_refused(owner_api, run):
    response = owner_api.post(run_url(run, "a.txt"), {})
    assert response.status_code == 405


def test_multipart_upload_is_declined_the_way_the_client_falls_back_on(owner_api, run, wire, make_user, workspace):
    url = f"{ARTIFACTS.replace('/artifacts', '/mpu/create')}/{run.experiment.wire_id}/{run.run_uuid}/artifacts"
    response = owner_api.post(url, {"path": "big.bin", "num_parts": 3})
    assert response.status_code == 501
    assert body(response) == {
        "error_code": "NOT_IMPLEMENTED",
        "message": "Multipart upload is not supported for the current artifact repository",
    }
    viewer = wire(make_user("val", workspace, Role.VIEWER))
    assert viewer.post(url, {}).status_code == 403
    abort = ARTIFACTS.replace("/artifacts", "/mpu/abort")
    traversal = f"{abort}/{run.experiment.wire_id}/{run.run_uuid}/artifacts/../../x"
    assert owner_api.post(traversal, {}).status_code == 400


# ---------------------------------------------------------------- deletes


def test_delete_file_and_folder(owner_api, run, artifact_root):
    for name in ("keep.txt", "plots/a.png", "plots/b.png", "plots/deep/c.png"):
        owner_api.put_bytes(run_url(run, name), b"data")
    response = owner_api.delete(run_url(run, "plots/a.png"))
    assert response.status_code == 200
    assert body(response) == {}
    assert owner_api.get(run_url(run, "plots/a.png")).status_code == 404
    assert owner_api.delete(run_url(run, "plots")).status_code == 200
    assert files_under(artifact_root / run_artifact_root(run)) == {"keep.txt": b"data"}
    # deleting what is not there succeeds, as in MLflow
    assert owner_api.delete(run_url(run, "plots")).status_code == 200
    # the whole root: everything the run stored
    assert owner_api.delete(run_url(run)).status_code == 200
    assert not (artifact_root / run_artifact_root(run)).exists()


def test_delete_of_a_logged_model_folder(owner_api, logged_model, artifact_root):
    owner_api.put_bytes(model_url(logged_model, "model/MLmodel"), b"m")
    owner_api.put_bytes(model_url(logged_model, "model/model.pkl"), b"p")
    assert owner_api.delete(model_url(logged_model, "model")).status_code == 200
    prefix = f"{logged_model.experiment.wire_id}/models/{logged_model.model_id}/artifacts"
    assert body(owner_api.get(ARTIFACTS, {"path": prefix})) == {}


# ---------------------------------------------------------------- permissions


def test_viewer_can_read_but_not_write_or_delete(
    wire, make_user, workspace, owner_api, run, logged_model, artifact_root
):
    owner_api.put_bytes(run_url(run, "a.txt"), b"owner's")
    owner_api.put_bytes(model_url(logged_model, "MLmodel"), b"m")
    viewer = wire(make_user("vic", workspace, Role.VIEWER))
    assert downloaded(viewer.get(run_url(run, "a.txt"))) == b"owner's"
    assert downloaded(viewer.get(model_url(logged_model, "MLmodel"))) == b"m"
    prefix = f"{run.experiment.wire_id}/{run.run_uuid}/artifacts"
    assert body(viewer.get(ARTIFACTS, {"path": prefix}))["files"][0]["path"] == "a.txt"
    assert body(viewer.get("artifacts/list", {"run_id": run.run_uuid}))["files"][0]["path"] == "a.txt"

    for response in (
        viewer.put_bytes(run_url(run, "a.txt"), b"viewer's"),
        viewer.put_bytes(model_url(logged_model, "MLmodel"), b"viewer's"),
        viewer.delete(run_url(run, "a.txt")),
    ):
        assert response.status_code == 403
        assert body(response)["error_code"] == "PERMISSION_DENIED"
    assert files_under(artifact_root / run_artifact_root(run)) == {"a.txt": b"owner's"}


def test_read_only_token_cannot_write(wire, owner, run, artifact_root):
    read_only = wire(owner, read_only=True)
    response = read_only.put_bytes(run_url(run, "a.txt"), b"x")
    assert response.status_code == 403
    assert body(response)["error_code"] == "PERMISSION_DENIED"
    assert read_only.delete(run_url(run, "a.txt")).status_code == 403
    assert not (artifact_root / run_artifact_root(run)).exists()
    wire(owner).put_bytes(run_url(run, "a.txt"), b"x")
    assert downloaded(read_only.get(run_url(run, "a.txt"))) == b"x"


def test_member_logs_into_a_shared_experiment_but_deleting_needs_manage(wire, make_user, workspace, owner_api, run):
    """MLflow gates artifact DELETE on MANAGE (CVE-2024-4263); logging needs EDIT."""
    member = wire(make_user("mo", workspace, Role.MEMBER))  # EDIT on someone else's experiment
    assert member.put_bytes(run_url(run, "m.txt"), b"x").status_code == 200
    response = member.delete(run_url(run, "m.txt"))
    assert response.status_code == 403
    assert downloaded(member.get(run_url(run, "m.txt"))) == b"x"
    maintainer = wire(make_user("max", workspace, Role.MAINTAINER))
    assert maintainer.delete(run_url(run, "m.txt")).status_code == 200
    assert owner_api.put_bytes(run_url(run, "n.txt"), b"y").status_code == 200
    assert owner_api.delete(run_url(run, "n.txt")).status_code == 200  # the experiment's creator manages it


def test_restricted_experiment_is_invisible_to_members(wire, make_user, workspace, make_experiment, make_run, owner):
    hidden = make_run(make_experiment(workspace, created_by=owner, restricted=True))
    wire(owner).put_bytes(run_url(hidden, "secret.txt"), b"s")
    outsider = wire(make_user("nosy", workspace, Role.MEMBER))
    missing = outsider.get(f"{ARTIFACTS}/{hidden.experiment.wire_id}/{'e' * 32}/artifacts/secret.txt")
    response = outsider.get(run_url(hidden, "secret.txt"))
    assert response.status_code == 404
    assert body(response)["message"] == body(missing)["message"].replace("e" * 32, hidden.run_uuid)


def test_other_workspace_run_answers_exactly_like_a_missing_one(
    wire, make_user, other_workspace, make_experiment, make_run, make_logged_model, owner_api, run
):
    stranger = make_user("gus", other_workspace, Role.ADMIN)
    theirs = make_run(make_experiment(other_workspace, created_by=stranger), user=stranger)
    their_model = make_logged_model(theirs.experiment, run=theirs)
    wire(stranger).put_bytes(run_url(theirs, "weights.bin"), b"theirs")
    wire(stranger).put_bytes(model_url(their_model, "MLmodel"), b"theirs")

    fake_run = "a" * 32
    fake_model = "m-" + "a" * 32
    exp = theirs.experiment.wire_id
    pairs = [
        (f"{exp}/{theirs.run_uuid}/artifacts/weights.bin", f"{exp}/{fake_run}/artifacts/weights.bin"),
        (f"{exp}/models/{their_model.model_id}/artifacts/MLmodel", f"{exp}/models/{fake_model}/artifacts/MLmodel"),
    ]
    for real, fake in pairs:
        for method in ("get", "delete"):
            seen = getattr(owner_api, method)(f"{ARTIFACTS}/{real}")
            never = getattr(owner_api, method)(f"{ARTIFACTS}/{fake}")
            assert seen.status_code == never.status_code == 404
            assert seen.content.replace(real.encode(), b"P") == never.content.replace(fake.encode(), b"P")
            assert _without_request_id(seen.headers) == _without_request_id(never.headers)
        seen = owner_api.put_bytes(f"{ARTIFACTS}/{real}", b"overwrite")
        never = owner_api.put_bytes(f"{ARTIFACTS}/{fake}", b"overwrite")
        assert seen.status_code == never.status_code == 404
        assert seen.content.replace(real.encode(), b"P") == never.content.replace(fake.encode(), b"P")
        listing_real = owner_api.get(ARTIFACTS, {"path": real.rsplit("/", 1)[0]})
        listing_fake = owner_api.get(ARTIFACTS, {"path": fake.rsplit("/", 1)[0]})
        assert listing_real.status_code == listing_fake.status_code == 404
    seen = owner_api.get("artifacts/list", {"run_id": theirs.run_uuid})
    never = owner_api.get("artifacts/list", {"run_id": fake_run})
    assert seen.status_code == never.status_code == 404
    assert seen.content.replace(theirs.run_uuid.encode(), b"R") == never.content.replace(fake_run.encode(), b"R")
    # and their files are untouched
    assert downloaded(wire(stranger).get(run_url(theirs, "weights.bin"))) == b"theirs"


def test_experiment_segment_must_be_the_runs_experiment(owner_api, run, make_experiment, workspace, owner):
    owner_api.put_bytes(run_url(run, "a.txt"), b"x")
    other = make_experiment(workspace, created_by=owner)
    for exp in (other.wire_id, "0", "99999", f"0{run.experiment.wire_id}"):
        response = owner_api.get(run_url(run, "a.txt", experiment_id=exp))
        assert response.status_code == 404, exp
        assert owner_api.put_bytes(run_url(run, "b.txt", experiment_id=exp), b"y").status_code == 404
    assert owner_api.get(run_url(run, "b.txt")).status_code == 404


def test_writes_to_a_deleted_run_are_refused_reads_still_work(owner_api, run, logged_model):
    owner_api.put_bytes(run_url(run, "a.txt"), b"x")
    owner_api.put_bytes(model_url(logged_model, "MLmodel"), b"m")
    run.lifecycle_stage = LifecycleStage.DELETED
    run.save()
    response = owner_api.put_bytes(run_url(run, "b.txt"), b"y")
    assert response.status_code == 400
    assert body(response) == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": f"The run {run.run_uuid} must be in the 'active' state. Current state is deleted.",
    }
    assert owner_api.delete(run_url(run, "a.txt")).status_code == 400
    assert downloaded(owner_api.get(run_url(run, "a.txt"))) == b"x"

    # a deleted logged model is gone for the API (experiments.access), its artifacts too
    logged_model.lifecycle_stage = LifecycleStage.DELETED
    logged_model.save()
    assert owner_api.put_bytes(model_url(logged_model, "MLmodel"), b"n").status_code == 404
    assert owner_api.get(model_url(logged_model, "MLmodel")).status_code == 404


def test_writes_under_a_deleted_experiment_are_refused(owner_api, logged_model):
    experiment = logged_model.experiment
    experiment.lifecycle_stage = LifecycleStage.DELETED
    experiment.save()
    response = owner_api.put_bytes(model_url(logged_model, "MLmodel"), b"n")
    assert response.status_code == 400
    assert "deleted experiment" in body(response)["message"]


# ---------------------------------------------------------------- streaming


def test_large_upload_streams_without_buffering(client, make_token, owner, run, settings, artifact_root):
    """20 MB through PUT: never in memory at once, and not limited by DATA_UPLOAD_MAX_MEMORY_SIZE."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    size = 20 * 1000 * 1000
    block = os.urandom(MiB)
    token = make_token(owner)
    expected = hashlib.sha256()
    remaining = size
    while remaining:
        expected.update(block[: min(remaining, MiB)])
        remaining -= min(remaining, MiB)
    url = run_url(run, "big/blob.bin")
    # warm up (first-request imports and URL resolver caches are not what is measured)
    warm = client.put(url, b"w", content_type="application/octet-stream", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert warm.status_code == 200
    b"".join(client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").streaming_content)

    tracemalloc.start()
    try:
        response = client.generic(
            "PUT",
            url,
            HTTP_AUTHORIZATION=f"Bearer {token}",
            CONTENT_TYPE="application/octet-stream",
            CONTENT_LENGTH=str(size),
            **{"wsgi.input": GeneratedStream(block, size)},
        )
        _, upload_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.content
    stored = artifact_root / run_artifact_root(run) / "big" / "blob.bin"
    assert stored.stat().st_size == size
    assert upload_peak < 5 * MiB, f"upload peak {upload_peak} bytes"

    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Length"] == str(size)
    got = hashlib.sha256()
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            got.update(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    assert got.hexdigest() == expected.hexdigest()
    assert download_peak < 5 * MiB, f"download peak {download_peak} bytes"


@pytest.mark.parametrize("broken", [{"fail_after": 3 * MiB}, {"short_by": 1000}])
def test_aborted_upload_leaves_nothing(client, make_token, owner, run, artifact_root, broken):
    token = make_token(owner)
    url = run_url(run, "partial.bin")
    client.put(url, b"previous", content_type="application/octet-stream", HTTP_AUTHORIZATION=f"Bearer {token}")
    size = 8 * MiB
    response = client.generic(
        "PUT",
        url,
        HTTP_AUTHORIZATION=f"Bearer {token}",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": GeneratedStream(b"z" * MiB, size, **broken)},
    )
    assert response.status_code == 400
    assert body(response)["error_code"] == "INVALID_PARAMETER_VALUE"
    assert files_under(artifact_root / run_artifact_root(run)) == {"partial.bin": b"previous"}
    assert os.listdir(artifact_root / ".incoming") == []


def test_chunked_upload_from_a_server_that_terminates_the_input(client, make_token, owner, run, artifact_root):
    """No Content-Length: read to the end when the WSGI server says that is safe (gunicorn does)."""
    token = make_token(owner)
    size = 3 * MiB + 17
    response = client.generic(
        "PUT",
        run_url(run, "chunked.bin"),
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **{"wsgi.input": GeneratedStream(b"c" * MiB, size), "wsgi.input_terminated": True},
    )
    assert response.status_code == 200, response.content
    assert (artifact_root / run_artifact_root(run) / "chunked.bin").stat().st_size == size
    refused = client.generic(
        "PUT",
        run_url(run, "chunked2.bin"),
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **{"wsgi.input": GeneratedStream(b"c" * MiB, size)},
    )
    assert refused.status_code == 400
    assert not (artifact_root / run_artifact_root(run) / "chunked2.bin").exists()


def test_query_budget_of_an_upload(owner_api, run, django_assert_max_num_queries):
    # token (+ its first last-used stamp), membership+workspace, run+experiment, and the
    # savepoint pair of the transaction around the publish: the upload size does not matter
    with django_assert_max_num_queries(6):
        assert owner_api.put_bytes(run_url(run, "q.txt"), b"q").status_code == 200


def _without_request_id(headers) -> dict:
    """Every response carries its own request id; everything else must match."""
    return {name: value for name, value in headers.items() if name != "X-Request-Id"}
