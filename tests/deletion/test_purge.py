"""The purge service, in-process: what goes, what stays, restore and protection, dry runs."""

import io

import pytest
from django.core.management import call_command

from audit.models import ActorKind, AuditEvent
from experiments import purge
from experiments.models import Experiment, Metric, Param, PurgeClaim, Run, RunInput, RunTag
from experiments.errors import MlflowError
from experiments.services import experiment_restore, run_restore
from registry.models import ModelVersion, RegisteredModel
from tests.deletion.conftest import files_of, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(shop, workspace):
    """Workspace acme (default retention, 30 days) with something of every kind, due or not."""
    live_exp = shop.experiment(workspace, "live")
    gone_exp = shop.experiment(workspace, "gone")
    world = {
        "live_exp": live_exp,
        "gone_exp": gone_exp,
        "gone_exp_runs": [shop.run(gone_exp), shop.run(gone_exp)],
        "gone_exp_model": shop.logged_model(gone_exp),
        "old_run": shop.run(live_exp),
        "young_run": shop.run(live_exp),
        "active_run": shop.run(live_exp),
        "old_model": shop.logged_model(live_exp),
        "active_model": shop.logged_model(live_exp),
    }
    shop.delete(gone_exp, 40)
    shop.delete(world["old_run"], 31)
    shop.delete(world["young_run"], 29)
    shop.delete(world["old_model"], 45)
    world["gone_rm"] = shop.delete(shop.registered_model(workspace, "old-rm", versions=2), 40)
    live_rm = shop.registered_model(workspace, "live-rm", versions=3)
    world["live_rm"] = live_rm
    world["old_version"] = shop.delete(live_rm.versions.get(version=1), 40)
    world["young_version"] = shop.delete(live_rm.versions.get(version=2), 5)
    return world


@pytest.fixture
def globex(shop, other_workspace):
    """Workspace globex keeps deletions 90 days: its 40-day-old deletions are not due."""
    other_workspace.retention_days = 90
    other_workspace.save()
    exp = shop.experiment(other_workspace, "gone")
    runs = [shop.run(exp), shop.run(exp)]
    shop.delete(exp, 40)
    kept = shop.experiment(other_workspace, "kept")
    old_run = shop.delete(shop.run(kept), 60)
    shop.delete(shop.registered_model(other_workspace, "old-rm"), 40)
    return {"exp": exp, "runs": runs, "old_run": old_run}


def test_purge_after_retention_removes_rows_children_and_files(acme, globex, artifact_root):
    gone_versions = set(acme["gone_rm"].versions.values_list("pk", flat=True)) | {acme["old_version"].pk}
    before = snapshot(artifact_root)
    report = purge.purge()
    after = snapshot(artifact_root)

    gone_runs = acme["gone_exp_runs"] + [acme["old_run"]]
    assert report.purged["experiment"] == [str(acme["gone_exp"].pk)]
    assert report.purged["run"] == [acme["old_run"].run_uuid]
    assert report.purged["logged_model"] == [acme["old_model"].model_id]
    assert report.purged["registered_model"] == ["old-rm"]
    assert report.purged["model_version"] == [f"{acme['live_rm'].pk}/1"]

    assert after["experiments"] == before["experiments"] - {acme["gone_exp"].pk}
    assert after["runs"] == before["runs"] - {r.run_uuid for r in gone_runs}
    assert after["logged_models"] == before["logged_models"] - {acme["old_model"].model_id, acme["gone_exp_model"].model_id}
    assert after["registered_models"] == before["registered_models"] - {acme["gone_rm"].pk}
    assert len(gone_versions) == 3 and after["versions"] == before["versions"] - gone_versions
    gone_ids = [r.pk for r in gone_runs]
    for model in (Metric, Param, RunTag, RunInput):
        assert not model.objects.filter(run_id__in=gone_ids).exists()
    gone_files = set().union(*(files_of(r) for r in gone_runs), files_of(acme["old_model"]), files_of(acme["gone_exp_model"]))
    assert after["files"] == before["files"] - gone_files
    assert not (artifact_root / str(acme["gone_exp"].workspace_id) / str(acme["gone_exp"].pk)).exists()
    assert after["claims"] == set()
    # globex is untouched: nothing of it was due.
    for run in globex["runs"] + [globex["old_run"]]:
        assert files_of(run) <= after["files"] and run.run_uuid in after["runs"]


def test_every_purge_is_audited_as_the_system(acme, artifact_root):
    purge.purge()
    events = {e.action: e for e in AuditEvent.objects.filter(action__endswith=".purged")}
    assert set(events) == {"experiment.purged", "run.purged", "logged_model.purged", "registered_model.purged", "model_version.purged"}
    assert {e.actor_kind for e in events.values()} == {ActorKind.SYSTEM}
    exp_event = events["experiment.purged"]
    assert exp_event.target_id == str(acme["gone_exp"].pk) and exp_event.target_name == "gone"
    assert exp_event.changes["removed"]["run"] == 2 and exp_event.changes["removed"]["metric"] == 4
    assert exp_event.changes["removed"]["loggedmodel"] == 1 and exp_event.changes["removed"]["experiment"] == 1
    assert events["run.purged"].changes["ids"] == [acme["old_run"].run_uuid]
    assert events["registered_model.purged"].changes["removed"]["modelversion"] == 2


def test_purge_is_idempotent(acme, artifact_root):
    purge.purge()
    state = snapshot(artifact_root)
    events = AuditEvent.objects.count()
    report = purge.purge()
    assert snapshot(artifact_root) == state
    assert sum(report.counts().values()) == 0 and AuditEvent.objects.count() == events


def test_dry_run_lists_what_would_go_and_changes_nothing(acme, artifact_root):
    before = snapshot(artifact_root)
    report = purge.purge(dry_run=True)
    assert snapshot(artifact_root) == before
    assert report.purged["experiment"] == [str(acme["gone_exp"].pk)]
    assert report.purged["run"] == [acme["old_run"].run_uuid]  # the experiment's runs go with it
    assert not AuditEvent.objects.filter(action__endswith=".purged").exists()

    out, err = io.StringIO(), io.StringIO()
    call_command("purge", "--dry-run", stdout=out, stderr=err)
    assert f"would purge run {acme['old_run'].run_uuid}" in out.getvalue()
    assert f"would purge experiment {acme['gone_exp'].pk}" in out.getvalue()
    assert "dry run: 1 experiment, 1 run" in err.getvalue()
    assert snapshot(artifact_root) == before


def test_the_command_purges_one_workspace_only(acme, shop, other_workspace, artifact_root):
    theirs = shop.delete(shop.run(shop.experiment(other_workspace)), 40)  # due in globex, too
    out = io.StringIO()
    call_command("purge", "--workspace", "acme", stdout=out, stderr=io.StringIO())
    assert f"purged run {acme['old_run'].run_uuid}" in out.getvalue()
    assert Run.objects.filter(pk=theirs.pk).exists() and files_of(theirs) <= snapshot(artifact_root)["files"]
    with pytest.raises(Exception, match="No workspace 'nope'"):
        call_command("purge", "--workspace", "nope")


def test_restore_before_purge_wins(acme, member, artifact_root):
    experiment_restore(actor=member, experiment=acme["gone_exp"])
    run = Run.objects.select_related("experiment").get(pk=acme["old_run"].pk)
    run_restore(actor=member, run=run)
    purge.purge()
    assert Experiment.objects.filter(pk=acme["gone_exp"].pk, lifecycle_stage="active").exists()
    for kept in acme["gone_exp_runs"] + [acme["old_run"]]:
        assert Run.objects.filter(pk=kept.pk, lifecycle_stage="active").exists()
        assert files_of(kept) <= snapshot(artifact_root)["files"]


def test_a_claimed_object_cannot_be_restored(acme, member, workspace):
    PurgeClaim.objects.create(workspace=workspace, kind="experiment", object_id=acme["gone_exp"].pk)
    with pytest.raises(MlflowError, match="being purged"):
        experiment_restore(actor=member, experiment=acme["gone_exp"])
    PurgeClaim.objects.create(workspace=workspace, kind="run", object_id=acme["old_run"].pk)
    with pytest.raises(MlflowError, match="being purged"):
        run_restore(actor=member, run=Run.objects.select_related("experiment").get(pk=acme["old_run"].pk))


def test_protected_objects_and_registered_sources_survive(shop, workspace, artifact_root):
    held = shop.experiment(workspace, "legal-hold")
    held_run = shop.run(held)
    shop.delete(held, 100)
    Experiment.objects.filter(pk=held.pk).update(protected=True)
    kept = shop.experiment(workspace, "kept")
    Experiment.objects.filter(pk=kept.pk).update(protected=True)
    deleted_in_protected = shop.delete(shop.run(kept), 100)
    source = shop.delete(shop.run(shop.experiment(workspace)), 100)  # a live version's source
    shop.registered_model(workspace, "uses-source", run=source)
    guarded = shop.registered_model(workspace, "guarded", versions=2)
    RegisteredModel.objects.filter(pk=guarded.pk).update(protected=True)
    shop.delete(guarded.versions.get(version=1), 100)
    before = snapshot(artifact_root)
    report = purge.purge()
    assert sum(report.counts().values()) == 0
    assert snapshot(artifact_root) == before
    assert {held_run.run_uuid, deleted_in_protected.run_uuid, source.run_uuid} <= before["runs"]


def test_a_purge_interrupted_after_the_files_is_finished_by_the_next(acme, workspace, artifact_root):
    """Claims written, files gone, rows left (a crash): the next purge finishes the job."""
    run = acme["old_run"]
    PurgeClaim.objects.create(workspace=workspace, kind="run", object_id=run.pk)
    purge._remove_files(workspace.pk, purge.run_folder(run, run.experiment))
    assert Run.objects.filter(pk=run.pk).exists()
    report = purge.purge()
    assert run.run_uuid in report.purged["run"]
    assert not Run.objects.filter(pk=run.pk).exists() and not PurgeClaim.objects.exists()


def test_storage_keys_are_checked_against_the_workspace_prefix():
    assert purge.contained("4/12/abc", "4") and purge.contained("4", "4")
    assert not purge.contained("41/12", "4") and not purge.contained("4x/1", "4")
    with pytest.raises(purge.OutsideWorkspace):
        purge._remove_files(4, "41/12/abc")
    with pytest.raises(purge.OutsideWorkspace):
        purge._remove_files(4, "4")  # never a whole workspace


def test_runs_are_purged_in_bounded_batches(shop, workspace, settings, artifact_root):
    settings.WARDEN_PURGE_BATCH_SIZE = 3
    exp = shop.experiment(workspace)
    runs = [shop.delete(shop.run(exp), 40) for _ in range(7)]
    report = purge.purge(workspace=workspace)
    assert sorted(report.purged["run"]) == sorted(r.run_uuid for r in runs)
    events = AuditEvent.objects.filter(action="run.purged")
    assert sorted(len(e.changes["ids"]) for e in events) == [1, 3, 3]


@pytest.mark.postgres_only
def test_one_purge_at_a_time(acme, artifact_root):
    """A second purge (an overlapping beat, a redelivery) backs off while the first holds the lock."""
    import psycopg

    from experiments import tasks
    from tests.worker import database_url

    with psycopg.connect(database_url(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [purge.ADVISORY_LOCK_KEY])
        with pytest.raises(purge.PurgeBusy):
            purge.purge()
        assert tasks.purge() == {}
        with pytest.raises(Exception, match="another purge is running"):
            call_command("purge", stdout=io.StringIO(), stderr=io.StringIO())
        assert Run.objects.filter(pk=acme["old_run"].pk).exists()
    assert acme["old_run"].run_uuid in purge.purge().purged["run"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_a_restore_in_flight_is_left_alone(acme, artifact_root):
    """The purge claims with SKIP LOCKED: a row someone is restoring right now is not taken."""
    import psycopg

    from tests.worker import database_url

    run = acme["old_run"]
    with psycopg.connect(database_url()) as other:
        other.execute("SELECT id FROM experiments_run WHERE id = %s FOR UPDATE", [run.pk])
        report = purge.purge()
        assert run.run_uuid not in report.purged["run"] and files_of(run) <= snapshot(artifact_root)["files"]
        other.execute("UPDATE experiments_run SET lifecycle_stage = 'active', deleted_time = NULL WHERE id = %s", [run.pk])
        other.commit()
    purge.purge()
    assert Run.objects.filter(pk=run.pk, lifecycle_stage="active").exists()
    assert files_of(run) <= snapshot(artifact_root)["files"]


def test_beat_runs_the_purge_task(settings):
    from config.celery import app

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["purge-deleted"]
    assert entry["task"] == "experiments.purge" and entry["task"] in app.tasks and entry["schedule"] > 0
