"""The storage layer: atomic publish, listing, deletes, symlink safety, and the storage seam."""

import io
import os
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from experiments import artifacts
from experiments.artifacts import storage
from tests.artifacts.conftest import ARTIFACTS, files_under, run_url


def test_save_open_list_delete(artifact_root):
    assert artifacts.save_stream("1/2/r/artifacts/a/b.txt", io.BytesIO(b"hello")) == 5
    assert artifacts.save_stream("1/2/r/artifacts/c.txt", io.BytesIO(b"")) == 0
    with artifacts.open_for_read("1/2/r/artifacts/a/b.txt") as handle:
        assert handle.read() == b"hello"
    assert artifacts.list_dir("1/2/r/artifacts") == [
        artifacts.Entry("a", True, None),
        artifacts.Entry("c.txt", False, 0),
    ]
    assert artifacts.list_dir("1/2/r/artifacts/c.txt") == []
    assert artifacts.list_dir("1/2/nothing") == []
    with pytest.raises(storage.ArtifactNotFound):
        artifacts.open_for_read("1/2/r/artifacts/missing")
    with pytest.raises(storage.IsADirectory):
        artifacts.open_for_read("1/2/r/artifacts/a")
    assert artifacts.delete_path("1/2/r/artifacts/a") is True
    assert artifacts.delete_path("1/2/r/artifacts/a") is False
    assert files_under(artifact_root) == {"1/2/r/artifacts/c.txt": b""}


def test_delete_prefix_is_folder_wise(artifact_root):
    for key in ("1/2/r/artifacts/x", "1/20/r/artifacts/x", "1/2x/y", "11/2/r/artifacts/x"):
        artifacts.save_stream(key, io.BytesIO(key.encode()))
    assert artifacts.delete_prefix("1/2") is True
    assert sorted(files_under(artifact_root)) == ["1/20/r/artifacts/x", "1/2x/y", "11/2/r/artifacts/x"]
    assert artifacts.delete_prefix("1") is True
    assert sorted(files_under(artifact_root)) == ["11/2/r/artifacts/x"]


@pytest.mark.parametrize("key", ["", "/", "..", "1/../11", "/etc", "1//2", "1/2/", "1\\2", "%2e%2e"])
def test_unsafe_keys_are_refused_by_the_storage_itself(artifact_root, key):
    artifacts.save_stream("11/keep", io.BytesIO(b"k"))
    with pytest.raises(ValueError):
        artifacts.delete_prefix(key)
    with pytest.raises(ValueError):
        artifacts.save_stream(key, io.BytesIO(b"x"))
    assert files_under(artifact_root) == {"11/keep": b"k"}


def test_a_failed_stream_publishes_nothing_and_keeps_the_previous_version(artifact_root):
    artifacts.save_stream("1/k", io.BytesIO(b"old"))

    class Broken(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def read(self, size=-1):
            self.calls += 1
            if self.calls > 2:
                raise OSError("reset")
            return b"n" * 10

    with pytest.raises(storage.IncompleteUpload):
        artifacts.save_stream("1/k", Broken())
    with pytest.raises(storage.IncompleteUpload):
        artifacts.save_stream("1/k", io.BytesIO(b"short"), expected_size=10)
    assert files_under(artifact_root) == {"1/k": b"old"}
    assert os.listdir(artifact_root / storage.STAGING_DIR) == []


def test_staging_is_private_and_published_files_get_the_storage_mode(artifact_root, settings):
    settings.FILE_UPLOAD_PERMISSIONS = 0o640
    staged = storage.stage_stream(io.BytesIO(b"data"))
    try:
        assert os.path.dirname(staged.temp_path) == str(artifact_root / storage.STAGING_DIR)
        assert os.stat(staged.temp_path).st_mode & 0o777 == 0o600
        assert not (artifact_root / "1").exists()  # not visible before commit
        staged.commit("1/f")
    finally:
        staged.discard()
    assert (artifact_root / "1" / "f").stat().st_mode & 0o777 == 0o640
    assert os.listdir(artifact_root / storage.STAGING_DIR) == []


def test_abandoned_uploads_are_purged_by_age(artifact_root):
    staging = artifact_root / storage.STAGING_DIR
    staging.mkdir()
    old, fresh = staging / "upload-old", staging / "upload-fresh"
    old.write_bytes(b"o")
    fresh.write_bytes(b"f")
    past = time.time() - 3 * 86400
    os.utime(old, (past, past))
    assert artifacts.abandoned_uploads_purge(86400) == 1
    assert sorted(os.listdir(staging)) == ["upload-fresh"]


# ---------------------------------------------------------------- symlinks planted in the tree


@pytest.fixture
def planted(tmp_path, artifact_root, owner_api, run):
    """A run folder with symlinks to a folder and a file outside the store."""
    from experiments.artifacts.paths import run_artifact_root

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    owner_api.put_bytes(run_url(run, "real.txt"), b"real")
    run_root = artifact_root / run_artifact_root(run)
    (run_root / "linkdir").symlink_to(outside, target_is_directory=True)
    (run_root / "link.txt").symlink_to(outside / "secret.txt")
    return outside


def test_symlinks_are_never_followed(planted, owner_api, run):
    for path in ("link.txt", "linkdir/secret.txt"):
        response = owner_api.get(run_url(run, path))
        assert response.status_code == 404, path
    prefix = f"{run.experiment.wire_id}/{run.run_uuid}/artifacts"
    listing = owner_api.get(ARTIFACTS, {"path": prefix}).json()
    assert listing == {"files": [{"path": "real.txt", "is_dir": False, "file_size": 4}]}
    assert owner_api.get(ARTIFACTS, {"path": f"{prefix}/linkdir"}).json() == {}
    assert owner_api.put_bytes(run_url(run, "linkdir/new.txt"), b"x").status_code == 400
    assert owner_api.put_bytes(run_url(run, "link.txt"), b"x").status_code == 400
    assert owner_api.delete(run_url(run, "linkdir/secret.txt")).status_code == 400
    assert files_under(planted) == {"secret.txt": b"secret"}
    # deleting the whole run removes the links, not what they point to
    assert owner_api.delete(run_url(run)).status_code == 200
    assert files_under(planted) == {"secret.txt": b"secret"}


# ---------------------------------------------------------------- the storage seam


def test_default_is_the_local_folder(settings, artifact_root):
    store = storage.get_store()
    assert isinstance(store, storage.LocalArtifactStore)
    assert store.root == os.path.realpath(artifact_root)


def test_s3_roots_are_refused_until_that_backend_is_wired(settings):
    settings.ARTIFACT_ROOT = "s3://bucket/prefix"
    with pytest.raises(ImproperlyConfigured, match="s3://"):
        storage.get_store()


def test_a_configured_filesystem_storage_is_used_as_a_local_store(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "fs")},
        },
    }
    store = storage.get_store()
    assert isinstance(store, storage.LocalArtifactStore)
    artifacts.save_stream("1/a", io.BytesIO(b"a"))
    assert (tmp_path / "fs" / "1" / "a").read_bytes() == b"a"


@pytest.fixture
def memory_storage(settings):
    """Any Django storage other than the local folder goes through the generic adapter."""
    settings.STORAGES = {**settings.STORAGES, "artifacts": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    store = storage.get_store()
    assert type(store) is storage.ArtifactStore
    return store


def test_generic_storage_through_the_api(memory_storage, owner_api, run, artifact_root):
    url = run_url(run, "plots/roc.png")
    assert owner_api.put_bytes(url, b"png").status_code == 200
    assert owner_api.put_bytes(url, b"png2").status_code == 200  # overwrite, no renamed copy
    assert owner_api.put_bytes(run_url(run, "plots/deep/x.txt"), b"x").status_code == 200
    assert owner_api.put_bytes(run_url(run, "top.txt"), b"t").status_code == 200
    response = owner_api.get(url)
    assert b"".join(response.streaming_content) == b"png2"
    assert response["Content-Disposition"] == 'attachment; filename="roc.png"'
    prefix = f"{run.experiment.wire_id}/{run.run_uuid}/artifacts"
    assert owner_api.get(ARTIFACTS, {"path": f"{prefix}/plots"}).json() == {
        "files": [{"path": "deep", "is_dir": True}, {"path": "roc.png", "is_dir": False, "file_size": 4}]
    }
    assert owner_api.get(run_url(run, "plots")).status_code == 400
    assert owner_api.get(run_url(run, "nope")).status_code == 404
    assert owner_api.put_bytes(run_url(run, "plots"), b"over a folder").status_code == 400
    assert owner_api.put_bytes(run_url(run, "top.txt/below"), b"below a file").status_code == 400
    assert owner_api.delete(run_url(run, "plots")).status_code == 200
    assert owner_api.get(url).status_code == 404
    assert owner_api.get("artifacts/list", {"run_id": run.run_uuid}).json()["files"] == [
        {"path": "top.txt", "is_dir": False, "file_size": 1}
    ]
    assert not any(artifact_root.iterdir())  # nothing went to the local folder


def test_generic_storage_delete_prefix_and_stage_cleanup(memory_storage):
    for key in ("1/2/a", "1/2/b/c", "1/20/a"):
        artifacts.save_stream(key, io.BytesIO(b"x"))
    with pytest.raises(storage.IncompleteUpload):
        artifacts.save_stream("1/2/z", io.BytesIO(b"x"), expected_size=5)
    assert memory_storage.kind("1/2/z") == "missing"
    assert artifacts.delete_prefix("1/2") is True
    assert memory_storage.kind("1/2") == "missing"
    assert memory_storage.kind("1/20/a") == "file"
    assert artifacts.delete_prefix("1/2") is False
