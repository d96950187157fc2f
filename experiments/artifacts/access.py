"""Fetch-and-authorise for artifact paths: from a wire path to a run or logged model and a key.

The path is canonicalised first, then its run or logged model is fetched in the caller's
workspace, and the experiment named in the path must be that object's experiment. Anything that
does not lead to a readable object (a malformed path, a missing run, another workspace's run, an
invisible one, a wrong experiment segment) answers with the same 404 for the same path, so the
answer says nothing about what exists elsewhere. A readable object the caller may not change
answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.permissions import Level
from experiments.access import access_logged_model, access_run, check_level, experiment_level
from experiments.artifacts.paths import (
    ArtifactAddress,
    canonical_path,
    join_path,
    logged_model_artifact_root,
    parse_address,
    run_artifact_root,
)
from experiments.errors import MlflowError, not_found
from experiments.models import Experiment, LoggedModel, Run

# MLflow gates artifact deletion on MANAGE (CVE-2024-4263): deleting is not logging.
READ_LEVEL = Level.READ
WRITE_LEVEL = Level.EDIT
DELETE_LEVEL = Level.MANAGE


@dataclass(frozen=True)
class ArtifactTarget:
    """An authorised artifact location: the owner and the canonical path below its root."""

    run: Run | None
    model: LoggedModel | None
    relpath: str

    @property
    def experiment(self) -> Experiment:
        return (self.run or self.model).experiment

    @property
    def root_key(self) -> str:
        return run_artifact_root(self.run) if self.run is not None else logged_model_artifact_root(self.model)

    @property
    def key(self) -> str:
        return join_path(self.root_key, self.relpath)

    @property
    def root_uri(self) -> str:
        wire_id = self.experiment.wire_id
        return self.run.artifact_uri(wire_id) if self.run is not None else self.model.artifact_location(wire_id)


def no_such_artifact(wire_path: str) -> MlflowError:
    return not_found(f"No such artifact: '{wire_path}'")


def access_artifact_path(ctx, raw_path, need: Level, *, trailing_slash: bool = False) -> ArtifactTarget:
    """Resolve an ``mlflow-artifacts`` path (``<exp>/<run>/artifacts/...`` or the models form)."""
    path = canonical_path(raw_path, trailing_slash=trailing_slash)
    address = parse_address(path)
    if address is None:
        raise no_such_artifact(path)
    target = _owner(ctx, address, path)
    check_level(
        experiment_level(ctx, target.experiment), need, f"artifact '{path}'", no_such_artifact(path).message, target.run or target.model
    )
    return target


def _owner(ctx, address: ArtifactAddress, path: str) -> ArtifactTarget:
    """The readable run or logged model the address names, or the uniform 404."""
    try:
        if address.model_id is not None:
            model = access_logged_model(ctx, address.model_id, READ_LEVEL)
            target = ArtifactTarget(None, model, address.relpath)
        else:
            run = access_run(ctx, address.run_uuid, READ_LEVEL)
            target = ArtifactTarget(run, None, address.relpath)
    except MlflowError as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise no_such_artifact(path) from None
        raise
    if target.experiment.wire_id != address.experiment_id:
        raise no_such_artifact(path)
    return target


def access_run_artifacts(ctx, run_id: str, raw_relpath, need: Level) -> ArtifactTarget:
    """A run's artifact folder for the tracking API (``artifacts/list?run_id=&path=``)."""
    relpath = canonical_path(raw_relpath, allow_empty=True, trailing_slash=True)
    try:
        run = access_run(ctx, run_id, need)
    except MlflowError as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise not_found(f"Run with id={run_id} not found") from None
        raise
    return ArtifactTarget(run, None, relpath)
