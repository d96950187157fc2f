"""Model-version sources are validated, never trusted (security.md A5, MLflow CVEs #2-#5, #12-#18, #32, #35)."""

import uuid

import pytest

from registry.models import ModelVersion
from tests.registry.conftest import error, ok


@pytest.fixture
def target(api):
    ok(api.post("registered-models/create", {"name": "target"}))
    return "target"


def create(client, source, **extra):
    return client.post("model-versions/create", {"name": "target", "source": source, **extra})


@pytest.mark.parametrize(
    "source",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "//proc/self/root/etc",
        "etc/passwd",
        "s3://bucket/model",
        "dbfs:/model",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/api/2.0/mlflow-artifacts/artifacts/1/x",
        "mlflow-artifacts://attacker:443/1/{run}/artifacts/model",
        "mlflow-artifacts:/1/../../etc",
        "models://host/m-" + "0" * 32,
        "models:/m-" + "0" * 31,
        "models:/just-a-name",
        "models:/name/latest",
        "runs:/{run}/../../etc",
        "runs:/{run}/model/../../../x",
        "runs:/{run}/./model",
        "runs:/{run}//model",
        "runs:/{run}/%2e%2e/%2e%2e/etc",
        "runs:/{run}/model%00",
        "runs:/{run}/model#/../../x",
        "runs:/{run}/model?a=../..",
        "runs:/{run}/model;/../x",
        "runs:/{run}/..\\..\\secret",
        "runs://host/{run}/model",
        "runs:/not-a-run/model",
        "RUNS:/{run}/model",
        "mlflow-artifacts:/{exp}/{run}/model",
        "mlflow-artifacts:/{exp}/{run}/artifacts/../../other",
        "mlflow-artifacts:/abc/{run}/artifacts/model",
        "mlflow-artifacts:/{exp}/models/{model}/other",
        "runs:/{run}/model\n",
        "",
    ],
)
def test_bad_sources_are_400_and_write_nothing(api, target, workspace, make_run, make_logged_model, source):
    run = make_run(workspace)
    logged = make_logged_model(run=run)
    source = source.format(run=run.run_uuid, exp=run.experiment.pk, model=logged.model_id)
    error(create(api, source), 400, "INVALID_PARAMETER_VALUE")
    assert not ModelVersion.objects.exists()


def test_source_must_be_a_string(api, target):
    error(create(api, ["runs:/x"]), 400, "INVALID_PARAMETER_VALUE")
    error(api.post("model-versions/create", {"name": "target"}), 400, "INVALID_PARAMETER_VALUE")


def _same_answer(first, second, first_id, second_id):
    assert first.status_code == second.status_code == 400
    assert first.content.replace(first_id.encode(), b"ID") == second.content.replace(second_id.encode(), b"ID")


def test_another_workspaces_run_is_refused_like_a_missing_one(api, target, make_run, other_workspace):
    foreign = make_run(other_workspace)
    ghost = uuid.uuid4().hex
    for template in ("runs:/{}/model", "mlflow-artifacts:/{exp}/{}/artifacts/model"):
        refused = create(api, template.format(foreign.run_uuid, exp=foreign.experiment.pk), run_id=foreign.run_uuid)
        missing = create(api, template.format(ghost, exp=foreign.experiment.pk), run_id=ghost)
        _same_answer(refused, missing, foreign.run_uuid, ghost)
        assert b"globex" not in refused.content
    assert not ModelVersion.objects.exists()


def test_another_workspaces_logged_model_is_refused_like_a_missing_one(api, target, make_logged_model, other_workspace):
    foreign = make_logged_model(other_workspace)
    ghost = "m-" + uuid.uuid4().hex
    refused = create(api, f"models:/{foreign.model_id}", model_id=foreign.model_id)
    missing = create(api, f"models:/{ghost}", model_id=ghost)
    _same_answer(refused, missing, foreign.model_id, ghost)
    refused = create(api, f"mlflow-artifacts:/{foreign.experiment.pk}/models/{foreign.model_id}/artifacts")
    missing = create(api, f"mlflow-artifacts:/{foreign.experiment.pk}/models/{ghost}/artifacts")
    _same_answer(refused, missing, foreign.model_id, ghost)


def test_a_run_the_caller_cannot_read_is_refused_like_a_missing_one(api, target, workspace, make_user, make_experiment, make_run):
    from accounts.models import Role

    owner = make_user("olga", workspace, Role.MEMBER)
    private = make_run(experiment=make_experiment(workspace, created_by=owner, restricted=True))
    ghost = uuid.uuid4().hex
    _same_answer(create(api, f"runs:/{private.run_uuid}/model"), create(api, f"runs:/{ghost}/model"), private.run_uuid, ghost)


def test_lineage_run_of_another_workspace_is_refused(api, target, workspace, make_logged_model, make_run, other_workspace):
    logged = make_logged_model(workspace)
    foreign = make_run(other_workspace)
    error(create(api, f"models:/{logged.model_id}", run_id=foreign.run_uuid), 400, "INVALID_PARAMETER_VALUE")
    assert not ModelVersion.objects.exists()


def test_run_id_and_model_id_must_match_the_source(api, target, workspace, make_run, make_logged_model):
    run, other = make_run(workspace), make_run(workspace)
    logged, other_model = make_logged_model(run=run), make_logged_model(workspace)
    error(create(api, f"runs:/{run.run_uuid}/model", run_id=other.run_uuid), 400, "INVALID_PARAMETER_VALUE")
    error(create(api, f"mlflow-artifacts:/{run.experiment.pk}/{run.run_uuid}/artifacts/m", run_id=other.run_uuid), 400, "INVALID_PARAMETER_VALUE")
    error(create(api, f"models:/{logged.model_id}", model_id=other_model.model_id), 400, "INVALID_PARAMETER_VALUE")
    error(create(api, f"runs:/{run.run_uuid}/model", model_id=logged.model_id), 400, "INVALID_PARAMETER_VALUE")
    # the experiment in a managed location must be the run's own
    error(create(api, f"mlflow-artifacts:/{other.experiment.pk}/{run.run_uuid}/artifacts/m"), 400, "INVALID_PARAMETER_VALUE")
    assert not ModelVersion.objects.exists()


def test_deleted_run_or_logged_model_is_refused(api, target, workspace, make_run, make_logged_model):
    run = make_run(workspace)
    logged = make_logged_model(workspace)
    type(run).objects.filter(pk=run.pk).update(lifecycle_stage="deleted")
    type(logged).objects.filter(pk=logged.pk).update(lifecycle_stage="deleted")
    error(create(api, f"runs:/{run.run_uuid}/model"), 400, "INVALID_PARAMETER_VALUE")
    error(create(api, f"models:/{logged.model_id}"), 400, "INVALID_PARAMETER_VALUE")


def test_a_client_flag_cannot_skip_validation(api, target):
    """MLflow CVE-2026-2614: the prompt tag once skipped source checks."""
    response = create(api, "file:///etc/", tags=[{"key": "mlflow.prompt.is_prompt", "value": "true"}])
    error(response, 400, "INVALID_PARAMETER_VALUE")


def test_copy_source_from_another_workspace_is_refused(api, wire, target, outsider, make_logged_model, other_workspace):
    theirs = wire(outsider)
    logged = make_logged_model(other_workspace)
    ok(theirs.post("registered-models/create", {"name": "theirs"}))
    ok(theirs.post("model-versions/create", {"name": "theirs", "source": f"models:/{logged.model_id}"}))
    error(create(api, "models:/theirs/1"), 400, "INVALID_PARAMETER_VALUE")
    error(create(api, "models:/theirs@champion"), 400, "INVALID_PARAMETER_VALUE")
