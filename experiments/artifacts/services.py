"""Artifact writes: upload and delete, for runs and logged models.

Callers pass a run or logged model already fetched and authorised (``experiments.artifacts.access``)
and a canonical path below its artifact root. The bytes are received before any transaction is
opened (an upload may take minutes and must not hold a database lock); the short transaction
around the storage change is where ``audit.record`` belongs, before the change, so that a failed
change rolls its event back and a failed event prevents the change.

Writes to a deleted run or logged model, or one of a deleted experiment, are refused with MLflow's
answer for logging to an inactive run (400 INVALID_PARAMETER_VALUE); restore it first. Reads stay
allowed while the object is restorable.
"""

from __future__ import annotations

import posixpath

from django.db import transaction

from audit import actions
from audit.services import record
from audit.targets import target_of
from experiments.artifacts import storage
from experiments.artifacts.paths import canonical_path, join_path, logged_model_artifact_root, run_artifact_root
from experiments.errors import invalid
from experiments.models import LifecycleStage, LoggedModel, Run


def _owner_root(run: Run | None, model: LoggedModel | None) -> str:
    if (run is None) == (model is None):
        raise TypeError("pass exactly one of run= or model=")
    if run is not None:
        _require_active(run.lifecycle_stage, run.experiment, f"The run {run.run_uuid}")
        return run_artifact_root(run)
    _require_active(model.lifecycle_stage, model.experiment, f"The logged model {model.model_id}")
    return logged_model_artifact_root(model)


def _require_active(stage, experiment, what: str):
    if stage != LifecycleStage.ACTIVE:
        raise invalid(f"{what} must be in the 'active' state. Current state is {stage}.")
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise invalid(f"{what} belongs to a deleted experiment; restore the experiment first.")


def artifact_save(
    *, actor, run: Run | None = None, model: LoggedModel | None = None, path: str, stream, expected_size=None
) -> int:
    """Store one file at ``path`` below the run's or model's root; return its size in bytes."""
    path = canonical_path(path)
    key = join_path(_owner_root(run, model), path)
    try:
        staged = storage.stage_stream(stream, expected_size=expected_size)
    except storage.IncompleteUpload as exc:
        raise invalid(f"The upload of '{path}' was incomplete ({exc}); nothing was stored.") from None
    try:
        with transaction.atomic():
            staged.commit(key)
    except storage.IsADirectory:
        raise invalid(f"Cannot upload to '{path}': it is a directory.") from None
    except storage.PathConflict:
        raise invalid(f"Cannot upload to '{path}': a file stands where a directory is needed.") from None
    finally:
        staged.discard()
    return staged.size


def artifact_delete(*, actor, run: Run | None = None, model: LoggedModel | None = None, path: str = "") -> bool:
    """Delete a file or a folder tree (``path=""``: everything the run or model stored).

    Deleting what is not there succeeds, as in MLflow; returns whether anything was removed.
    """
    path = canonical_path(path, allow_empty=True)
    key = join_path(_owner_root(run, model), path)
    try:
        with transaction.atomic():
            record(actions.ARTIFACT_DELETED, actor=actor, **target_of(run or model), changes={"path": path or "/"})
            return storage.delete_path(key)
    except storage.PathConflict:
        raise invalid(f"Cannot delete '{path}': it is not a plain file or folder of the artifact store.") from None


# The file every MLflow flavour loader reads exactly once per load, whatever the model holds.
MODEL_DESCRIPTOR = "MLmodel"


def model_download_record(*, actor, run: Run | None = None, model: LoggedModel | None = None, path: str) -> bool:
    """Audit a model load, once per load: the download of a model's ``MLmodel`` descriptor (in a
    logged model's or a run's artifacts; model versions point at one of the two). The model's
    other files, and every other artifact read, are not recorded: one event per load, not one
    per file. Returns whether an event was written."""
    if posixpath.basename(path) != MODEL_DESCRIPTOR:
        return False
    record(actions.MODEL_DOWNLOADED, actor=actor, **target_of(run or model), changes={"path": path})
    return True
