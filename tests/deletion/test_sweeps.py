"""Sweeps: orphaned artifact folders and abandoned uploads, inside the artifact root only."""

import io
import os
import time
import uuid

import pytest

from audit.models import ActorKind, AuditEvent
from experiments import purge
from experiments.artifacts.storage import STAGING_DIR
from experiments.artifacts.storage import save_stream
from tests.deletion.conftest import snapshot, stored_files

pytestmark = pytest.mark.django_db
DAY = 24 * 3600


def put(key: str):
    save_stream(key, io.BytesIO(b"left behind"))


def age(root, key: str, seconds: float):
    """Move a folder's (and its files') times into the past."""
    stamp = time.time() - seconds
    path = root / key
    for folder, _, files in os.walk(path, topdown=False):
        for name in files:
            os.utime(os.path.join(folder, name), (stamp, stamp))
        os.utime(folder, (stamp, stamp))


@pytest.fixture
def leftovers(shop, workspace, other_workspace, artifact_root):
    exp = shop.experiment(workspace)
    live = shop.run(exp)
    model = shop.logged_model(exp)
    ws, ghost_run, ghost_model = workspace.pk, uuid.uuid4().hex, "m-" + uuid.uuid4().hex
    keys = {
        "ghost_run": f"{ws}/{exp.pk}/{ghost_run}",
        "ghost_model": f"{ws}/{exp.pk}/models/{ghost_model}",
        "ghost_experiment": f"{ws}/999999",
        "ghost_workspace": "888888",
        "young_ghost": f"{ws}/{exp.pk}/{uuid.uuid4().hex}",
        "theirs_ghost": f"{other_workspace.pk}/777777",
    }
    for name, key in keys.items():
        put(f"{key}/artifacts/file.bin" if "ghost_workspace" != name else f"{key}/1/x/artifacts/f")
        if name != "young_ghost":
            age(artifact_root, key, 2 * DAY)
    (artifact_root / "not-warden").mkdir()
    (artifact_root / "not-warden" / "x").write_text("someone else's")
    (artifact_root / f"{ws}" / "notes").mkdir()
    age(artifact_root, "not-warden", 9 * DAY)
    age(artifact_root, f"{ws}/notes", 9 * DAY)
    return {"keys": keys, "live": live, "model": model}


def test_orphaned_folders_older_than_the_grace_period_are_removed(leftovers, workspace, artifact_root, tmp_path):
    keys = leftovers["keys"]
    before = stored_files(artifact_root)
    report = purge.purge()
    expected = sorted([keys["ghost_workspace"], keys["ghost_experiment"], keys["ghost_run"], keys["ghost_model"], keys["theirs_ghost"]])
    assert sorted(report.orphans) == expected
    removed = {f for f in before if any(f.startswith(k + "/") for k in expected)}
    assert stored_files(artifact_root) == before - removed
    assert (artifact_root / keys["young_ghost"]).exists()  # inside the grace period
    assert (artifact_root / "not-warden" / "x").exists() and (artifact_root / str(workspace.pk) / "notes").exists()
    assert (tmp_path / "outside" / "keep.txt").read_text() == "not Warden's"
    events = AuditEvent.objects.filter(action="artifacts.orphans_purged")
    assert {e.actor_kind for e in events} == {ActorKind.SYSTEM}
    assert sorted(p for e in events for p in e.changes["prefixes"]) == expected


def test_a_workspace_purge_sweeps_only_its_own_prefix(leftovers, workspace, artifact_root):
    keys = leftovers["keys"]
    report = purge.purge(workspace=workspace)
    assert sorted(report.orphans) == sorted([keys["ghost_experiment"], keys["ghost_run"], keys["ghost_model"]])
    assert (artifact_root / keys["theirs_ghost"]).exists() and (artifact_root / keys["ghost_workspace"]).exists()


def test_dry_run_lists_orphans_and_abandoned_uploads_and_removes_nothing(leftovers, artifact_root):
    staging = artifact_root / STAGING_DIR
    staging.mkdir(exist_ok=True)
    (staging / "upload-old").write_bytes(b"partial")
    os.utime(staging / "upload-old", (time.time() - 2 * DAY,) * 2)
    before = snapshot(artifact_root)
    report = purge.purge(dry_run=True)
    assert len(report.orphans) == 5 and report.abandoned_uploads == ["upload-old"]
    assert snapshot(artifact_root) == before and (staging / "upload-old").exists()


def test_abandoned_uploads_older_than_the_threshold_are_removed(artifact_root, settings):
    settings.WARDEN_UPLOAD_ABANDON_SECONDS = 3600
    staging = artifact_root / STAGING_DIR
    staging.mkdir()
    for name, seconds in (("upload-old", 7200), ("upload-fresh", 60)):
        (staging / name).write_bytes(b"partial")
        os.utime(staging / name, (time.time() - seconds,) * 2)
    (staging / "folder").mkdir()
    os.utime(staging / "folder", (time.time() - 7200,) * 2)
    report = purge.purge()
    assert report.abandoned_uploads == ["upload-old"]
    assert sorted(os.listdir(staging)) == ["folder", "upload-fresh"]
