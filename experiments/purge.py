"""The purge: what stayed deleted past its workspace's retention goes, files first, then rows.

One service behind the periodic task (``experiments.tasks.purge``) and ``manage.py purge``.
For each workspace and each kind (model versions, registered models, experiments, runs,
logged models), in bounded batches:

1. **claim**: in one short transaction, lock the due rows (``FOR UPDATE SKIP LOCKED``: a row a
   restore holds is left for the next run), re-check them under the lock (still deleted, past
   retention, not protected, not a model version's source) and write a ``PurgeClaim`` for each.
   From then on a restore refuses, so nothing is restored with half its files;
2. **files**: remove each object's storage folder, derived from its row and checked to lie inside
   its workspace's prefix;
3. **rows**: delete the rows (cascading to metrics, params, tags, inputs, ...), the claims and
   write the audit event (actor: the system), in one transaction.

A crash leaves claims behind; the next run finishes them before claiming anything new (files
that are already gone are simply not found). Audit: one event per purged experiment and
registered model (with counts of what went with it), one per batch of runs, logged models and
model versions purged on their own (with their ids), so 10,000 runs cost 20 events, not 10,000.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from accounts.models import Workspace
from audit import actions, context
from audit.services import record
from audit.targets import target_of
from experiments.artifacts import storage
from experiments.artifacts.paths import MODELS_SEGMENT
from experiments.models import Experiment, LifecycleStage, LoggedModel, PurgeClaim, Run
from experiments.retention import cutoff_ms

logger = logging.getLogger("warden.purge")
Kind = PurgeClaim.Kind
# The batches of objects purged on their own (experiments and registered models have one event each).
_BATCH_PURGED = {Kind.RUN: actions.RUN_PURGED, Kind.LOGGED_MODEL: actions.LOGGED_MODEL_PURGED, Kind.MODEL_VERSION: actions.MODEL_VERSION_PURGED}
ADVISORY_LOCK_KEY = 0x57415244454E50  # "WARDENP": the purge's PostgreSQL advisory lock


class OutsideWorkspace(RuntimeError):
    """A derived storage key that does not lie inside its workspace's prefix: never deleted."""


@dataclass
class Report:
    """What a purge removed (or, dry, would remove): labels per kind, sweeps' findings."""

    dry_run: bool = False
    purged: dict[str, list[str]] = field(default_factory=lambda: {kind.value: [] for kind in Kind})
    orphans: list[str] = field(default_factory=list)
    abandoned_uploads: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            **{kind: len(labels) for kind, labels in self.purged.items()},
            "orphan_prefixes": len(self.orphans),
            "abandoned_uploads": len(self.abandoned_uploads),
        }


class _Pacer:
    """Counts objects whose files are gone; the fault-injection pause of the crash tests."""

    def __init__(self):
        self.done = 0
        self.pause_after = settings.WARDEN_PURGE_PAUSE_AFTER

    def tick(self):
        self.done += 1
        if self.pause_after and self.done == self.pause_after:
            logger.warning("purge: pausing after %s objects (WARDEN_PURGE_PAUSE_AFTER)", self.done)
            time.sleep(settings.WARDEN_PURGE_PAUSE_SECONDS)


# ---------------------------------------------------------------- storage


def contained(key: str, prefix: str) -> bool:
    """Separator-aware: "4/12" is inside "4" but "41/12" is not."""
    return key == prefix or key.startswith(prefix + "/")


def _remove_files(workspace_id: int, key: str) -> None:
    if not contained(key, str(workspace_id)) or key == str(workspace_id):
        raise OutsideWorkspace(f"refusing to delete {key!r}: not below workspace {workspace_id}'s prefix")
    storage.delete_prefix(key)


def run_folder(run: Run, experiment: Experiment) -> str:
    return f"{experiment.workspace_id}/{experiment.pk}/{run.run_uuid}"


def logged_model_folder(model: LoggedModel, experiment: Experiment) -> str:
    return f"{experiment.workspace_id}/{experiment.pk}/{MODELS_SEGMENT}/{model.model_id}"


# ---------------------------------------------------------------- what is due


def _registry():
    from registry.models import ModelVersion, RegisteredModel

    return ModelVersion, RegisteredModel


def _claimed(workspace, kind) -> Q:
    return Q(pk__in=PurgeClaim.objects.filter(workspace=workspace, kind=kind).values("object_id"))


def due(workspace, kind: str, cutoff: int):
    """The objects of ``kind`` in ``workspace`` the purge may take now (not yet claimed)."""
    ModelVersion, RegisteredModel = _registry()
    if kind == Kind.MODEL_VERSION:
        queryset = ModelVersion.objects.filter(
            registered_model__workspace=workspace, registered_model__deleted=False,
            registered_model__protected=False, deleted=True, deleted_time__lte=cutoff,
        )
    elif kind == Kind.REGISTERED_MODEL:
        queryset = RegisteredModel.objects.filter(workspace=workspace, deleted=True, deleted_time__lte=cutoff, protected=False)
    elif kind == Kind.EXPERIMENT:
        sources = ModelVersion.objects.filter(
            Q(run__experiment=OuterRef("pk")) | Q(logged_model__experiment=OuterRef("pk"))
        )
        queryset = Experiment.objects.filter(
            workspace=workspace, lifecycle_stage=LifecycleStage.DELETED, deleted_time__lte=cutoff,
            protected=False, is_default=False,
        ).exclude(Exists(sources))
    else:
        model = Run if kind == Kind.RUN else LoggedModel
        source_field = "run" if kind == Kind.RUN else "logged_model"
        # Only in live experiments: those of a deleted one go with it (or come back with it).
        queryset = model.objects.filter(
            experiment__workspace=workspace, experiment__protected=False, experiment__lifecycle_stage=LifecycleStage.ACTIVE,
            lifecycle_stage=LifecycleStage.DELETED, deleted_time__lte=cutoff,
        ).exclude(Exists(ModelVersion.objects.filter(**{source_field: OuterRef("pk")})))
    return queryset.exclude(_claimed(workspace, kind))


def _claim(workspace, kind: str, cutoff: int, limit: int) -> list[int]:
    with transaction.atomic():
        ids = list(
            due(workspace, kind, cutoff).order_by("pk").select_for_update(of=("self",), skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        PurgeClaim.objects.bulk_create([PurgeClaim(workspace=workspace, kind=kind, object_id=pk) for pk in ids])
    return ids


def _pending(workspace, kind: str, limit: int) -> list[int]:
    """Claims a previous, interrupted purge left behind: finished first."""
    return list(
        PurgeClaim.objects.filter(workspace=workspace, kind=kind).order_by("object_id").values_list("object_id", flat=True)[:limit]
    )


# ---------------------------------------------------------------- removal


def _strip_files(workspace, kind: str, rows: list, experiment_by_id: dict, pacer: _Pacer) -> None:
    """Remove each run's or logged model's storage folder (derived from the row, inside its workspace)."""
    folder = run_folder if kind == Kind.RUN else logged_model_folder
    for row in rows:
        _remove_files(workspace.pk, folder(row, experiment_by_id[row.experiment_id]))
        pacer.tick()


def _merge(total: dict, counts: dict) -> dict:
    """Add Django's per-model delete counts ("experiments.Metric": 12) to a total by short name."""
    for label, number in counts.items():
        short = label.rsplit(".", 1)[-1].lower()
        total[short] = total.get(short, 0) + number
    return total


def _finish_batch(workspace, kind: str, ids: list[int], pacer: _Pacer, report: Report) -> None:
    """Files, then rows + claims + one audit event, for claimed runs / logged models / versions."""
    model = _model_of(kind)
    rows = list(model.objects.filter(pk__in=ids))
    if kind != Kind.MODEL_VERSION:  # versions own no files: their source's files are its run's
        experiments = {e.pk: e for e in Experiment.objects.filter(pk__in={r.experiment_id for r in rows})}
        _strip_files(workspace, kind, rows, experiments, pacer)
    labels = _labels(kind, rows)
    with transaction.atomic():
        _, counts = model.objects.filter(pk__in=ids).delete()
        PurgeClaim.objects.filter(kind=kind, object_id__in=ids).delete()
        if labels:
            record(
                _BATCH_PURGED[kind], workspace=workspace, target_type=kind, target_id="",
                target_name=f"{len(labels)} {kind.replace('_', ' ')}s",
                changes={"ids": labels, "removed": _merge({}, counts)},
            )
    report.purged[kind].extend(labels)


def _finish_experiment(workspace, experiment_id: int, batch: int, pacer: _Pacer, report: Report) -> None:
    """Runs and logged models in batches (progress kept on the claim), the folder, the row."""
    claim = PurgeClaim.objects.get(kind=Kind.EXPERIMENT, object_id=experiment_id)
    experiment = Experiment.objects.filter(pk=experiment_id, workspace=workspace).first()
    if experiment is not None:
        experiments = {experiment.pk: experiment}
        for kind in (Kind.RUN, Kind.LOGGED_MODEL):
            model = _model_of(kind)
            while rows := list(model.objects.filter(experiment=experiment).order_by("pk")[:batch]):
                _strip_files(workspace, kind, rows, experiments, pacer)
                with transaction.atomic():
                    _, counts = model.objects.filter(pk__in=[row.pk for row in rows]).delete()
                    claim.progress = _merge(dict(claim.progress), counts)
                    claim.save(update_fields=["progress"])
        _remove_files(workspace.pk, f"{workspace.pk}/{experiment.pk}")
    with transaction.atomic():
        if experiment is not None:
            _, counts = Experiment.objects.filter(pk=experiment_id).delete()
            record(
                actions.EXPERIMENT_PURGED, **target_of(experiment, workspace=workspace),
                changes={"deleted_time": experiment.deleted_time, "removed": _merge(dict(claim.progress), counts)},
            )
            report.purged[Kind.EXPERIMENT].append(str(experiment.pk))
        claim.delete()


def _finish_registered_model(workspace, model_id: int, report: Report) -> None:
    _, RegisteredModel = _registry()
    with transaction.atomic():
        model = RegisteredModel.objects.filter(pk=model_id, workspace=workspace).first()
        if model is not None:
            _, counts = RegisteredModel.objects.filter(pk=model_id).delete()
            record(
                actions.REGISTERED_MODEL_PURGED, **target_of(model, workspace=workspace),
                changes={"deleted_time": model.deleted_time, "removed": _merge({}, counts)},
            )
            report.purged[Kind.REGISTERED_MODEL].append(model.name)
        PurgeClaim.objects.filter(kind=Kind.REGISTERED_MODEL, object_id=model_id).delete()


# Registry first: purging a version frees the run or logged model it was registered from.
ORDER = (Kind.MODEL_VERSION, Kind.REGISTERED_MODEL, Kind.EXPERIMENT, Kind.RUN, Kind.LOGGED_MODEL)


def purge_workspace(workspace, *, report: Report, now_ms: int | None = None, pacer: _Pacer | None = None) -> Report:
    batch = max(1, settings.WARDEN_PURGE_BATCH_SIZE)
    cutoff = cutoff_ms(workspace, now_ms)
    pacer = pacer or _Pacer()
    for kind in ORDER:
        if report.dry_run:
            report.purged[kind].extend(_labels(kind, _would_go(workspace, kind, cutoff)))
            continue
        while ids := (_pending(workspace, kind, batch) or _claim(workspace, kind, cutoff, batch)):
            if kind == Kind.EXPERIMENT:
                for experiment_id in ids:
                    _finish_experiment(workspace, experiment_id, batch, pacer, report)
            elif kind == Kind.REGISTERED_MODEL:
                for model_id in ids:
                    _finish_registered_model(workspace, model_id, report)
            else:
                _finish_batch(workspace, kind, ids, pacer, report)
    return report


def _model_of(kind):
    ModelVersion, RegisteredModel = _registry()
    return {
        Kind.EXPERIMENT: Experiment, Kind.RUN: Run, Kind.LOGGED_MODEL: LoggedModel,
        Kind.REGISTERED_MODEL: RegisteredModel, Kind.MODEL_VERSION: ModelVersion,
    }[kind]


def _would_go(workspace, kind, cutoff) -> list:
    """Dry run: what is claimed already plus what is due (an experiment's runs are counted with it)."""
    claimed = _model_of(kind).objects.filter(pk__in=PurgeClaim.objects.filter(workspace=workspace, kind=kind).values("object_id"))
    return list(claimed.order_by("pk")) + list(due(workspace, kind, cutoff).order_by("pk"))


def _labels(kind, objects) -> list[str]:
    label = {
        Kind.EXPERIMENT: lambda o: str(o.pk), Kind.RUN: lambda o: o.run_uuid, Kind.LOGGED_MODEL: lambda o: o.model_id,
        Kind.REGISTERED_MODEL: lambda o: o.name, Kind.MODEL_VERSION: lambda o: f"{o.registered_model_id}/{o.version}",
    }[kind]
    return [label(o) for o in objects]


class PurgeBusy(RuntimeError):
    """Another purge holds the lock (a long run overlapping the next beat, or a redelivery)."""


@contextmanager
def _exclusive():
    """One purge at a time, server-wide: a PostgreSQL session advisory lock, which a killed
    worker's connection releases as it drops. SQLite (embedded, one process) needs none."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise PurgeBusy("another purge is running")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


def purge(*, workspace=None, dry_run: bool = False, now_ms: int | None = None) -> Report:
    """Purge every workspace (or one); then sweep orphaned folders and abandoned uploads."""
    from experiments import sweeps

    report = Report(dry_run=dry_run)
    pacer = _Pacer()
    workspaces = [workspace] if workspace is not None else list(Workspace.objects.order_by("pk"))
    with _exclusive(), context.as_warden():  # the system purges, wherever it was started from
        for each in workspaces:
            purge_workspace(each, report=report, now_ms=now_ms, pacer=pacer)
        sweeps.orphan_sweep(report, workspace=workspace)
        if workspace is None:  # staging files belong to no workspace: only a full purge sweeps them
            sweeps.abandoned_upload_sweep(report)
    return report
