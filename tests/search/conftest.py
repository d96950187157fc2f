"""Row builders for the search tests: rows are created directly with the ORM."""

import itertools
import uuid

import pytest

from accounts.authentication import Principal
from accounts.models import Role
from accounts.workspaces import resolve_workspace
from experiments.models import (
    Dataset,
    Experiment,
    ExperimentTag,
    LatestMetric,
    LoggedModel,
    LoggedModelParam,
    LoggedModelTag,
    Metric,
    Param,
    Run,
    RunInput,
    RunTag,
)

_counter = itertools.count(1)


def context_for(user, workspace=None):
    return resolve_workspace(Principal(user=user, token=None, auth_method="session"), workspace.slug if workspace else None)


@pytest.fixture
def ctx_for():
    return context_for


@pytest.fixture
def alice(make_user, workspace):
    return make_user("alice", workspace, Role.MEMBER)


@pytest.fixture
def ctx(alice, workspace):
    return context_for(alice, workspace)


def make_experiment(workspace, name=None, *, created_by=None, restricted=False, creation_time=1000, last_update_time=None, tags=None, lifecycle_stage="active"):
    experiment = Experiment.objects.create(
        workspace=workspace,
        name=name or f"exp-{next(_counter)}",
        created_by=created_by,
        restricted=restricted,
        creation_time=creation_time,
        last_update_time=creation_time if last_update_time is None else last_update_time,
        lifecycle_stage=lifecycle_stage,
    )
    for key, value in (tags or {}).items():
        ExperimentTag.objects.create(experiment=experiment, key=key, value=value)
    return experiment


def make_run(
    experiment,
    *,
    name=None,
    start_time=1000,
    end_time=None,
    status="FINISHED",
    user_id="alice",
    lifecycle_stage="active",
    metrics=None,
    params=None,
    tags=None,
):
    name = name or f"run-{next(_counter)}"
    run = Run.objects.create(
        run_uuid=uuid.uuid4().hex,
        experiment=experiment,
        name=name,
        user_id=user_id,
        status=status,
        start_time=start_time,
        end_time=end_time,
        lifecycle_stage=lifecycle_stage,
    )
    for key, value in (metrics or {}).items():
        set_metric(run, key, value)
    for key, value in (params or {}).items():
        Param.objects.create(run=run, key=key, value=value)
    all_tags = {"mlflow.runName": name, **(tags or {})}
    for key, value in all_tags.items():
        RunTag.objects.create(run=run, key=key, value=value)
    return run


def set_metric(run, key, value, *, step=0, timestamp=1, model_id=None):
    """Log one point and make it the latest (NaN is stored as 0 with is_nan, like ingest)."""
    is_nan = value != value
    stored = 0.0 if is_nan else value
    Metric.objects.create(run=run, key=key, value=stored, is_nan=is_nan, timestamp=timestamp, step=step, model_id=model_id)
    LatestMetric.objects.update_or_create(
        run=run, key=key, defaults={"value": stored, "is_nan": is_nan, "timestamp": timestamp, "step": step, "model_id": model_id}
    )


def add_input(run, name, digest, *, context=None, extra_tags=None):
    dataset, _ = Dataset.objects.get_or_create(
        experiment=run.experiment, name=name, digest=digest, defaults={"source_type": "local", "source": "file:///d"}
    )
    tags = [{"key": k, "value": v} for k, v in (extra_tags or {}).items()]
    if context is not None:
        tags.append({"key": "mlflow.data.context", "value": context})
    return RunInput.objects.create(run=run, dataset=dataset, tags=tags)


def make_logged_model(
    experiment,
    *,
    name="model",
    source_run=None,
    model_type="",
    status="LOGGED_MODEL_READY",
    creation_timestamp=1000,
    last_updated_timestamp=None,
    lifecycle_stage="active",
    params=None,
    tags=None,
):
    model = LoggedModel.objects.create(
        model_id=f"m-{uuid.uuid4().hex}",
        experiment=experiment,
        name=name,
        source_run=source_run,
        model_type=model_type,
        status=status,
        creation_timestamp=creation_timestamp,
        last_updated_timestamp=creation_timestamp if last_updated_timestamp is None else last_updated_timestamp,
        lifecycle_stage=lifecycle_stage,
    )
    for key, value in (params or {}).items():
        LoggedModelParam.objects.create(logged_model=model, key=key, value=value)
    for key, value in (tags or {}).items():
        LoggedModelTag.objects.create(logged_model=model, key=key, value=value)
    return model
