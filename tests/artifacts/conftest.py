"""Artifact fixtures: a private artifact root per test, runs and logged models made with the ORM."""

import time
import uuid

import pytest

from accounts.models import Role
from experiments.access import ensure_default_experiment
from experiments.models import Experiment, LoggedModel, LoggedModelStatus, Run

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(autouse=True)
def artifact_root(settings, tmp_path):
    """Every test stores under its own folder; tmp_path/outside is a place nothing may reach."""
    root = tmp_path / "store" / "artifacts"
    root.mkdir(parents=True)
    settings.ARTIFACT_ROOT = str(root)
    return root


@pytest.fixture
def make_experiment(db):
    def make(workspace, name=None, *, created_by=None, restricted=False, default=False):
        if default:  # "0" on the wire; every workspace has exactly one
            return ensure_default_experiment(workspace)
        stamp = now_ms()
        return Experiment.objects.create(
            workspace=workspace,
            name=name or f"exp-{uuid.uuid4().hex[:8]}",
            created_by=created_by,
            restricted=restricted,
            creation_time=stamp,
            last_update_time=stamp,
        )

    return make


@pytest.fixture
def make_run(db):
    def make(experiment, *, user=None):
        return Run.objects.create(
            run_uuid=uuid.uuid4().hex,
            experiment=experiment,
            user_id=user.username if user else "",
            created_by=user,
            start_time=now_ms(),
        )

    return make


@pytest.fixture
def make_logged_model(db):
    def make(experiment, *, run=None, user=None):
        stamp = now_ms()
        return LoggedModel.objects.create(
            model_id="m-" + uuid.uuid4().hex,
            experiment=experiment,
            name="model",
            source_run=run,
            status=LoggedModelStatus.PENDING,
            created_by=user,
            creation_timestamp=stamp,
            last_updated_timestamp=stamp,
        )

    return make


@pytest.fixture
def owner(make_user, workspace):
    """A member who created the experiment below, so they MANAGE it."""
    return make_user("olga", workspace, Role.MEMBER)


@pytest.fixture
def experiment(make_experiment, workspace, owner):
    return make_experiment(workspace, created_by=owner)


@pytest.fixture
def run(make_run, experiment, owner):
    return make_run(experiment, user=owner)


@pytest.fixture
def logged_model(make_logged_model, experiment, run, owner):
    return make_logged_model(experiment, run=run, user=owner)


@pytest.fixture
def owner_api(wire, owner):
    return wire(owner)


def run_url(run, path="", *, experiment_id=None, prefix=ARTIFACTS) -> str:
    exp = experiment_id if experiment_id is not None else run.experiment.wire_id
    base = f"{prefix}/{exp}/{run.run_uuid}/artifacts"
    return f"{base}/{path}" if path else base


def model_url(model, path="", *, experiment_id=None, prefix=ARTIFACTS) -> str:
    exp = experiment_id if experiment_id is not None else model.experiment.wire_id
    base = f"{prefix}/{exp}/models/{model.model_id}/artifacts"
    return f"{base}/{path}" if path else base


def files_under(folder) -> dict:
    """Every file below a folder, relative path -> bytes (to compare trees before and after)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class GeneratedStream:
    """A WSGI input that produces ``size`` bytes on demand from one block: nothing is held whole.

    ``fail_after`` makes it raise OSError once that many bytes were read, as a broken client
    connection does; ``short_by`` ends it early, as a client that closes too soon does.
    """

    def __init__(self, block: bytes, size: int, *, fail_after=None, short_by=0):
        self.block = block
        self.remaining = size - short_by
        self.sent = 0
        self.fail_after = fail_after

    def read(self, size=-1, /):
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise OSError("connection reset by peer")
        if self.remaining <= 0:
            return b""
        if size is None or size < 0:
            size = self.remaining
        size = min(size, self.remaining, len(self.block))
        self.remaining -= size
        self.sent += size
        return self.block[:size]

    def readline(self, size=-1, /):
        return self.read(size)
