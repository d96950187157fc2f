"""Deletion fixtures: a private artifact root, tracked objects with real files, snapshots.

``Shop`` builds experiments, runs (with metrics, params, tags, a dataset input and files),
logged models and registered models straight through the ORM and the artifact store, and ages
deletions by moving their ``deleted_time`` into the past. ``snapshot`` reads back what exists,
as exact sets, so tests compare whole states.
"""

import io
import os
import time
import uuid

import pytest

from experiments.artifacts import logged_model_artifact_root, run_artifact_root, save_stream
from experiments.models import (
    Dataset,
    Experiment,
    LatestMetric,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    Param,
    PurgeClaim,
    Run,
    RunInput,
    RunTag,
)
from experiments.retention import DAY_MS
from registry.models import ModelVersion, RegisteredModel

FILES = ("model/model.pkl", "data/train.csv")


def now_ms() -> int:
    return int(time.time() * 1000)


def days_ago(days: float) -> int:
    return now_ms() - int(days * DAY_MS)


@pytest.fixture(autouse=True)
def artifact_root(settings, tmp_path):
    """Every test stores under its own folder; tmp_path/outside is a place nothing may reach."""
    root = tmp_path / "store" / "artifacts"
    root.mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("not Warden's")
    settings.ARTIFACT_ROOT = str(root)
    return root


class Shop:
    def experiment(self, workspace, name=None) -> Experiment:
        stamp = now_ms()
        return Experiment.objects.create(
            workspace=workspace, name=name or f"exp-{uuid.uuid4().hex[:8]}", creation_time=stamp, last_update_time=stamp
        )

    def run(self, experiment, files=FILES) -> Run:
        run = Run.objects.create(run_uuid=uuid.uuid4().hex, experiment=experiment, start_time=now_ms())
        Param.objects.create(run=run, key="lr", value="0.1")
        RunTag.objects.create(run=run, key="team", value="ml")
        Metric.objects.bulk_create([Metric(run=run, key="loss", value=1.0 / step, timestamp=now_ms(), step=step) for step in (1, 2)])
        LatestMetric.objects.create(run=run, key="loss", value=0.5, timestamp=now_ms(), step=2)
        dataset, _ = Dataset.objects.get_or_create(
            experiment=experiment, name="train", digest="d1", defaults={"source_type": "local", "source": "x"}
        )
        RunInput.objects.create(run=run, dataset=dataset)
        root = run_artifact_root(run)
        for name in files:
            save_stream(f"{root}/{name}", io.BytesIO(b"bytes of " + name.encode()))
        return run

    def logged_model(self, experiment, files=("MLmodel",)) -> LoggedModel:
        stamp = now_ms()
        model = LoggedModel.objects.create(
            model_id="m-" + uuid.uuid4().hex, experiment=experiment, name="model", status=LoggedModelStatus.READY,
            creation_timestamp=stamp, last_updated_timestamp=stamp,
        )
        for name in files:
            save_stream(f"{logged_model_artifact_root(model)}/{name}", io.BytesIO(b"model"))
        return model

    def registered_model(self, workspace, name, *, versions=1, run=None) -> RegisteredModel:
        stamp = now_ms()
        model = RegisteredModel.objects.create(workspace=workspace, name=name, creation_timestamp=stamp, last_updated_timestamp=stamp)
        for number in range(1, versions + 1):
            ModelVersion.objects.create(
                registered_model=model, version=number, source=f"runs:/{run.run_uuid}/model" if run else "x",
                storage_location="x", run=run, creation_timestamp=stamp, last_updated_timestamp=stamp,
            )
        return model

    @staticmethod
    def delete(obj, days: float):
        """Soft-delete ``obj`` as of ``days`` ago (an experiment takes its active runs along)."""
        stamp = days_ago(days)
        if isinstance(obj, (RegisteredModel, ModelVersion)):
            type(obj).objects.filter(pk=obj.pk).update(deleted=True, deleted_time=stamp)
        else:
            type(obj).objects.filter(pk=obj.pk).update(lifecycle_stage=LifecycleStage.DELETED, deleted_time=stamp)
        if isinstance(obj, Experiment):
            obj.runs.filter(lifecycle_stage=LifecycleStage.ACTIVE).update(lifecycle_stage=LifecycleStage.DELETED, deleted_time=stamp)
        obj.refresh_from_db()
        return obj


@pytest.fixture
def shop(db):
    return Shop()


def stored_files(root) -> set[str]:
    """Every file under the artifact root (staging excluded), as store keys."""
    found = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".incoming"]
        for name in files:
            found.add(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return found


def snapshot(root) -> dict:
    """What exists: rows of every purgeable kind, their children, claims and files."""
    return {
        "experiments": set(Experiment.objects.values_list("pk", flat=True)),
        "runs": set(Run.objects.values_list("run_uuid", flat=True)),
        "logged_models": set(LoggedModel.objects.values_list("model_id", flat=True)),
        "registered_models": set(RegisteredModel.objects.values_list("pk", flat=True)),
        "versions": set(ModelVersion.objects.values_list("pk", flat=True)),
        "metrics": set(Metric.objects.values_list("pk", flat=True)),
        "params": set(Param.objects.values_list("pk", flat=True)),
        "tags": set(RunTag.objects.values_list("pk", flat=True)),
        "inputs": set(RunInput.objects.values_list("pk", flat=True)),
        "claims": set(PurgeClaim.objects.values_list("kind", "object_id")),
        "files": stored_files(root),
    }


def files_of(run_or_model) -> set[str]:
    root = run_artifact_root(run_or_model) if isinstance(run_or_model, Run) else logged_model_artifact_root(run_or_model)
    return {f"{root}/{name}" for name in (FILES if isinstance(run_or_model, Run) else ("MLmodel",))}
