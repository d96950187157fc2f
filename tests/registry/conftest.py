"""Registry fixtures: runs and logged models made with the ORM, and helpers for the wire API."""

import time
import uuid

import pytest

from accounts.models import Role
from experiments.models import Experiment, LoggedModel, LoggedModelStatus, Run


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def make_experiment(db):
    def make(workspace, name=None, *, created_by=None, restricted=False):
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
def make_run(db, make_experiment):
    def make(workspace=None, *, experiment=None, user=None):
        experiment = experiment or make_experiment(workspace)
        return Run.objects.create(
            run_uuid=uuid.uuid4().hex,
            experiment=experiment,
            user_id=user.username if user else "",
            created_by=user,
            start_time=now_ms(),
        )

    return make


@pytest.fixture
def make_logged_model(db, make_experiment):
    def make(workspace=None, *, experiment=None, run=None, user=None):
        experiment = experiment or (run.experiment if run else make_experiment(workspace))
        stamp = now_ms()
        return LoggedModel.objects.create(
            model_id="m-" + uuid.uuid4().hex,
            experiment=experiment,
            name="model",
            source_run=run,
            status=LoggedModelStatus.READY,
            created_by=user,
            creation_timestamp=stamp,
            last_updated_timestamp=stamp,
        )

    return make


@pytest.fixture
def maintainer(make_user, workspace):
    return make_user("max", workspace, Role.MAINTAINER)


@pytest.fixture
def viewer(make_user, workspace):
    return make_user("vic", workspace, Role.VIEWER)


@pytest.fixture
def outsider(make_user, other_workspace):
    """A member of the other workspace ("globex") only."""
    return make_user("otto", other_workspace, Role.MEMBER)


def ok(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.json()


def error(response, status: int, code: str) -> str:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["error_code"] == code, body
    return body["message"]


@pytest.fixture
def registered(api, make_logged_model, workspace, member):
    """Create a registered model with n versions from fresh logged models; returns (name, [model ids])."""

    def create(name="iris", versions=1, client=None):
        client = client or api
        ok(client.post("registered-models/create", {"name": name}))
        ids = []
        for _ in range(versions):
            logged = make_logged_model(workspace, user=member)
            ok(client.post("model-versions/create", {"name": name, "source": f"models:/{logged.model_id}", "model_id": logged.model_id}))
            ids.append(logged.model_id)
        return name, ids

    return create
