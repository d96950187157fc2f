"""The purge in a real Celery worker on Redis: it runs, and a worker killed mid-purge loses nothing.

The crash is made deterministic with the purge's fault-injection pause
(``WARDEN_PURGE_PAUSE_AFTER``): the worker removes the files of exactly three objects, then
sleeps; the test sees that state and SIGKILLs the worker. The restarted worker gets the
unacknowledged task back from Redis (``acks_late``; a short visibility timeout) and finishes.
"""

import time

import pytest

from audit.models import ActorKind, AuditEvent
from experiments import tasks
from experiments.errors import MlflowError
from experiments.models import Experiment, PurgeClaim, Run
from experiments.services import experiment_restore
from tests.deletion.conftest import files_of, snapshot, stored_files

pytestmark = pytest.mark.celery_worker


def wait_for(predicate, worker, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}\n{worker.log()}")


def scoped(state: dict, runs, files_prefix: str) -> dict:
    """The part of a snapshot that belongs to one workspace (its runs and its files)."""
    uuids = {r.run_uuid for r in runs}
    return {"runs": state["runs"] & uuids, "files": {f for f in state["files"] if f.startswith(files_prefix)}}


@pytest.fixture
def world(shop, workspace, other_workspace):
    """acme: a deleted experiment of 5 runs and 3 deleted runs, all due; one active run.
    globex (90-day retention): deletions 40 days old, not due, and active work."""
    other_workspace.retention_days = 90
    other_workspace.save()
    gone = shop.experiment(workspace, "gone")
    gone_runs = [shop.run(gone) for _ in range(5)]
    shop.delete(gone, 40)
    live = shop.experiment(workspace, "live")
    old_runs = [shop.delete(shop.run(live), 40) for _ in range(3)]
    active = shop.run(live)
    theirs = shop.experiment(other_workspace, "theirs")
    their_runs = [shop.run(theirs), shop.delete(shop.run(theirs), 40)]
    their_gone = shop.experiment(other_workspace, "their-gone")
    their_runs += [shop.run(their_gone)]
    shop.delete(their_gone, 40)
    return {
        "gone": gone, "gone_runs": gone_runs, "old_runs": old_runs, "active": active,
        "their_runs": their_runs, "acme": f"{workspace.pk}/", "globex": f"{other_workspace.pk}/",
    }


def test_a_real_worker_purges_what_is_due(artifact_root, real_worker, world):
    theirs_before = scoped(snapshot(artifact_root), world["their_runs"], world["globex"])
    tasks.purge.delay()
    wait_for(lambda: not Run.objects.filter(pk=world["old_runs"][-1].pk).exists(), real_worker, what="the purge")
    wait_for(lambda: not PurgeClaim.objects.exists(), real_worker, what="the claims to go")
    after = snapshot(artifact_root)
    assert {r.run_uuid for r in world["gone_runs"] + world["old_runs"]} & after["runs"] == set()
    assert {f for f in after["files"] if f.startswith(world["acme"])} == files_of(world["active"])
    assert scoped(after, world["their_runs"], world["globex"]) == theirs_before
    assert not Experiment.objects.filter(pk=world["gone"].pk).exists()
    assert {e.actor_kind for e in AuditEvent.objects.filter(action__endswith=".purged")} == {ActorKind.SYSTEM}


@pytest.mark.celery_worker(
    env={"WARDEN_PURGE_PAUSE_AFTER": "3", "WARDEN_PURGE_PAUSE_SECONDS": "300", "WARDEN_PURGE_BATCH_SIZE": "4"}
)
def test_a_worker_killed_mid_purge_leaves_a_state_the_next_run_completes(artifact_root, real_worker, world, member):
    before = snapshot(artifact_root)
    theirs_before = scoped(before, world["their_runs"], world["globex"])
    gone_folders = [files_of(run) for run in world["gone_runs"]]

    tasks.purge.delay()
    delivered = time.monotonic()

    def three_runs_stripped():
        files = stored_files(artifact_root)
        return sum(1 for owned in gone_folders if not owned & files) == 3

    wait_for(three_runs_stripped, real_worker, what="the files of three runs to go")
    real_worker.kill()

    # The crash state: the experiment is claimed, three runs lost their files, no row is gone yet.
    crashed = snapshot(artifact_root)
    assert crashed["claims"] == {("experiment", world["gone"].pk)}
    assert crashed["runs"] == before["runs"] and crashed["experiments"] == before["experiments"]
    assert sum(1 for owned in gone_folders if owned <= crashed["files"]) == 2
    assert scoped(crashed, world["their_runs"], world["globex"]) == theirs_before
    with pytest.raises(MlflowError, match="being purged"):  # half its files are gone: no way back
        experiment_restore(actor=member, experiment=Experiment.objects.get(pk=world["gone"].pk))

    # Restarted, the worker gets the unacknowledged task back and finishes the job: with a 1 s
    # visibility timeout, the sweep of unacknowledged messages a worker makes as it starts
    # returns a message delivered more than a second ago.
    for name in ("WARDEN_PURGE_PAUSE_AFTER", "WARDEN_PURGE_PAUSE_SECONDS"):
        real_worker.extra_env.pop(name)
    real_worker.extra_env["WARDEN_CELERY_VISIBILITY_TIMEOUT"] = "1"
    time.sleep(max(0.0, delivered + 2.0 - time.monotonic()))
    real_worker.start()
    wait_for(lambda: not PurgeClaim.objects.exists() and not Run.objects.filter(pk=world["old_runs"][-1].pk).exists(),
             real_worker, what="the redelivered purge to finish")

    after = snapshot(artifact_root)
    assert after["runs"] == before["runs"] - {r.run_uuid for r in world["gone_runs"] + world["old_runs"]}
    assert after["experiments"] == before["experiments"] - {world["gone"].pk}
    assert {f for f in after["files"] if f.startswith(world["acme"])} == files_of(world["active"])
    assert scoped(after, world["their_runs"], world["globex"]) == theirs_before
    event = AuditEvent.objects.get(action="experiment.purged")
    assert event.changes["removed"]["run"] == 5 and event.actor_kind == ActorKind.SYSTEM
    assert sorted(AuditEvent.objects.get(action="run.purged").changes["ids"]) == sorted(r.run_uuid for r in world["old_runs"])
