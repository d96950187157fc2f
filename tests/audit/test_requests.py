"""Events of real requests: who and from where, denials, rejected tokens, rollbacks and cost."""

import base64
import io
import json
import os
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from accounts import tokens
from accounts.models import ApiToken
from accounts.permissions import Level
from audit import actions
from audit.models import ActorKind
from experiments import services as tracking
from experiments.artifacts import services as artifact_services
from experiments.artifacts.paths import run_artifact_root
from experiments.models import Experiment, LifecycleStage
from registry import promotion
from registry import services as registry_services
from tests.conftest import WireClient

MLFLOW_CLIENT = {"HTTP_USER_AGENT": "mlflow-python-client/3.17.2", "HTTP_X_REQUEST_ID": "req-42", "REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture
def as_user(client, world):
    """A WireClient for a world user with a new token of theirs (returned too)."""

    def build(user, **options):
        token, plaintext = account_services.token_create(actor=None, user=user, name=f"{user.username}-wire", **options)
        return WireClient(client, plaintext), token

    return build


# ---------------------------------------------------------------- context of a request


def test_an_event_names_the_token_the_method_and_where_the_request_came_from(world, as_user):
    api, token = as_user(world.mia)
    world.mark()
    response = api.post("experiments/create", {"name": "wired"}, **MLFLOW_CLIENT)
    assert response.status_code == 200, response.content
    [event] = world.events(actions.EXPERIMENT_CREATED)
    assert (event.actor_id, event.actor_name, event.actor_kind) == (world.mia.pk, "mia", ActorKind.TOKEN)
    assert (event.token_id, event.auth_method) == (token.pk, "token")
    assert (event.source_ip, event.user_agent, event.client_version) == ("203.0.113.7", "mlflow-python-client/3.17.2", "3.17.2")
    assert event.request_id == "req-42" == response["X-Request-Id"]
    assert (event.target_type, event.target_id, event.target_name) == ("experiment", response.json()["experiment_id"], "wired")
    # the creator's grant is written by the same request and says so
    [grant] = world.events(actions.GRANT_CREATED)
    assert grant.request_id == "req-42" and grant.changes["reason"] == "creator"


def test_basic_auth_is_named_as_such(client, world):
    _, plaintext = account_services.token_create(actor=None, user=world.mia, name="basic")
    basic = base64.b64encode(f"mia:{plaintext}".encode()).decode()
    world.mark()
    response = client.post(
        "/api/2.0/mlflow/experiments/create", json.dumps({"name": "by-basic"}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    [event] = world.events(actions.EXPERIMENT_CREATED)
    assert event.auth_method == "basic" and event.actor_kind == ActorKind.TOKEN


def test_a_browser_session_on_wardens_api_is_named_as_such(world, client):
    client.force_login(world.ada)
    world.mark()
    response = client.patch("/api/v1/workspaces/acme/members/mia", json.dumps({"role": "viewer"}), content_type="application/json", **MLFLOW_CLIENT)
    assert response.status_code == 200, response.content
    [event] = world.events()
    assert (event.action, event.actor_name, event.actor_kind) == (actions.MEMBERSHIP_ROLE_CHANGED, "ada", ActorKind.USER)
    assert (event.auth_method, event.token_id, event.request_id) == ("session", None, "req-42")
    assert event.changes == {"before": {"role": "member"}, "after": {"role": "viewer"}}


def test_a_run_ending_over_the_wire_is_one_event(world, as_user):
    api, _ = as_user(world.mia)
    experiment_id = api.post("experiments/create", {"name": "runs"}).json()["experiment_id"]
    run_id = api.post("runs/create", {"experiment_id": experiment_id}).json()["run"]["info"]["run_id"]
    world.mark()
    assert api.post("runs/log-batch", {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 0}]}).status_code == 200
    assert world.events() == []  # logging is not audited per call
    assert api.post("runs/update", {"run_id": run_id, "status": "FAILED", "end_time": 5}).status_code == 200
    [event] = world.events()
    assert (event.action, event.target_id, event.changes["after"]) == (actions.RUN_FAILED, run_id, {"status": "FAILED"})


# ---------------------------------------------------------------- model downloads


def test_a_model_load_is_recorded_once_not_per_file(world, as_user):
    version = world.version()
    run = version.run
    for name in ("conda.yaml", "model.pkl"):
        artifact_services.artifact_save(actor=world.mia, run=run, path=f"model/{name}", stream=io.BytesIO(b"x"), expected_size=1)
    api, _ = as_user(world.vic)  # READ is enough to download
    world.mark()
    assert api.get("model-versions/get-download-uri", {"name": "clf", "version": "1"}).status_code == 200
    base = f"/api/2.0/mlflow-artifacts/artifacts/{run.experiment.wire_id}/{run.run_uuid}/artifacts/model"
    for name in ("MLmodel", "conda.yaml", "model.pkl"):
        response = api.get(f"{base}/{name}")
        assert response.status_code == 200
        b"".join(response.streaming_content)
    assert [(e.action, e.target_type, e.target_id) for e in world.events()] == [
        (actions.MODEL_VERSION_DOWNLOAD_URI_RESOLVED, "model_version", str(version.pk)),
        (actions.MODEL_DOWNLOADED, "run", run.run_uuid),
    ]
    assert world.events(actions.MODEL_DOWNLOADED)[0].changes == {"path": "model/MLmodel"}


# ---------------------------------------------------------------- denials


def test_a_403_on_the_mlflow_api_is_one_denied_event(world, as_user):
    experiment = world.experiment()
    api, token = as_user(world.vic)
    world.mark()
    response = api.post("experiments/delete", {"experiment_id": experiment.wire_id})
    assert response.status_code == 403
    [event] = world.events()
    assert (event.action, event.outcome, event.error_code) == (actions.ACCESS_DENIED, "denied", "PERMISSION_DENIED")
    assert (event.target_type, event.target_id, event.target_name) == ("experiment", experiment.wire_id, "exp")
    assert (event.actor_name, event.token_id, event.workspace_id) == ("vic", token.pk, world.workspace.pk)
    assert event.changes["need"] == "MANAGE" and event.changes["method"] == "POST"
    assert event.changes["route"].endswith("experiments/delete")
    assert Experiment.objects.get(pk=experiment.pk).lifecycle_stage == LifecycleStage.ACTIVE


def test_a_denial_inside_a_transaction_survives_its_rollback(world, as_user):
    version = world.version()
    account_services.grant_revoke(actor=None, obj=version.registered_model, user=world.mia)  # mia keeps her role's EDIT
    api, _ = as_user(world.mia)  # Production needs MANAGE: refused under the model's row lock
    world.mark()
    response = api.post("model-versions/transition-stage", {"name": "clf", "version": "1", "stage": "Production", "archive_existing_versions": False})
    assert response.status_code == 403
    [event] = world.events()
    assert (event.action, event.target_type, event.target_id) == (actions.ACCESS_DENIED, "model_version", str(version.pk))
    assert event.changes["need"] == "MANAGE"


def test_a_promotion_held_for_approval_records_the_request_and_the_refusal(world, as_user, client):
    version = world.version()
    promotion.protection_set(actor=world.ada, model=version.registered_model, protected=True)
    api, _ = as_user(world.mia)
    world.mark()
    body = {"name": "clf", "version": "1", "stage": "Production", "archive_existing_versions": False}
    assert api.post("model-versions/transition-stage", body).status_code == 403
    assert [(e.action, e.outcome) for e in world.events()] == [(actions.TRANSITION_REQUEST_OPENED, "success"), (actions.ACCESS_DENIED, "denied")]
    request_id = world.events()[0].target_id
    assert world.events()[1].changes["need"] == "approval"
    world.mark()
    response = client.post(f"/api/v1/registry/transition-requests/{request_id}/approve", HTTP_AUTHORIZATION=api.headers["HTTP_AUTHORIZATION"])
    assert response.status_code == 403  # mia may not approve her own request, whatever her level
    [event] = world.events()
    assert (event.action, event.target_type, event.target_id) == (actions.ACCESS_DENIED, "transition_request", request_id)
    assert event.changes["need"] == "another approver"


def test_an_artifact_denial_names_the_run(world, as_user):
    run = world.run()
    artifact_services.artifact_save(actor=world.mia, run=run, path="a.txt", stream=io.BytesIO(b"a"), expected_size=1)
    api, _ = as_user(world.mia)  # deleting artifacts needs MANAGE, the creator's grant was revoked
    account_services.grant_revoke(actor=None, obj=run.experiment, user=world.mia)
    world.mark()
    response = api.delete(f"/api/2.0/mlflow-artifacts/artifacts/{run.experiment.wire_id}/{run.run_uuid}/artifacts/a.txt")
    assert response.status_code == 403
    [event] = world.events()
    assert (event.action, event.target_type, event.target_id, event.changes["need"]) == (actions.ACCESS_DENIED, "run", run.run_uuid, "MANAGE")


def test_invisible_and_missing_objects_are_404_and_not_recorded(world, as_user, other_workspace):
    hidden = tracking.experiment_create(actor=None, workspace=other_workspace, name="elsewhere")
    restricted = world.experiment("restricted")
    Experiment.objects.filter(pk=restricted.pk).update(restricted=True)
    account_services.grant_revoke(actor=None, obj=restricted, user=world.mia)
    api, _ = as_user(world.vic)
    world.mark()
    for experiment_id in (hidden.wire_id, restricted.wire_id, "999999"):
        assert api.post("experiments/delete", {"experiment_id": experiment_id}).status_code == 404
    assert world.events() == []


def test_a_403_on_wardens_api_is_one_denied_event(world, client):
    _, plaintext = account_services.token_create(actor=None, user=world.mia, name="api")
    world.mark()
    response = client.patch(
        "/api/v1/workspaces/acme/members/vic", json.dumps({"role": "admin"}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plaintext}",
    )
    assert response.status_code == 403
    [event] = world.events()
    assert (event.action, event.outcome, event.actor_name) == (actions.ACCESS_DENIED, "denied", "mia")
    assert (event.target_type, event.target_id, event.changes["need"]) == ("workspace", str(world.workspace.pk), "role admin")


def test_a_grant_refused_on_wardens_api_names_the_object_and_the_level(world, client):
    experiment = world.experiment()
    _, plaintext = account_services.token_create(actor=None, user=world.vic, name="api")
    world.mark()
    response = client.post(
        f"/api/v1/workspaces/acme/experiments/{experiment.wire_id}/grants", json.dumps({"user": "vic", "level": "MANAGE"}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plaintext}",
    )
    assert response.status_code == 403
    [event] = world.events()
    assert (event.action, event.target_type, event.target_id, event.changes["need"]) == (
        actions.ACCESS_DENIED, "experiment", experiment.wire_id, "MANAGE"
    )


def test_a_read_only_token_writing_on_wardens_api_is_denied_and_recorded(world, client):
    _, plaintext = account_services.token_create(actor=None, user=world.ada, name="ro", read_only=True)
    world.mark()
    response = client.post("/api/v1/tokens", json.dumps({"name": "more"}), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 403
    [event] = world.events()
    assert (event.action, event.changes["need"], event.target_type) == (actions.ACCESS_DENIED, "write token", "")


def test_a_403_on_the_registry_api_names_the_model(world, client):
    model = world.registered_model()
    _, plaintext = account_services.token_create(actor=None, user=world.vic, name="api")
    world.mark()
    response = client.put(
        "/api/v1/registry/models/clf/protection", json.dumps({"protected": True}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_X_MLFLOW_WORKSPACE="acme",
    )
    assert response.status_code == 403
    [event] = world.events()
    assert (event.action, event.target_type, event.target_id, event.changes["need"]) == (
        actions.ACCESS_DENIED, "registered_model", str(model.pk), "MANAGE"
    )


# ---------------------------------------------------------------- rejected credentials


def _rejections(world):
    return world.events(actions.AUTH_TOKEN_REJECTED)


@pytest.mark.parametrize("state", ["revoked", "expired", "owner deactivated"])
def test_an_unusable_token_is_rejected_and_recorded(world, client, state):
    token, plaintext = account_services.token_create(actor=None, user=world.bot, name="gone", workspace=world.workspace)
    if state == "revoked":
        account_services.token_revoke(actor=None, token=token)
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        account_services.service_account_deactivate(actor=None, user=world.bot)
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)  # only the owner stands in the way
    world.mark()
    response = WireClient(client, plaintext).get("experiments/search", {"max_results": 1}, **MLFLOW_CLIENT)
    assert response.status_code == 401
    [event] = world.events()
    assert (event.action, event.outcome, event.error_code) == (actions.AUTH_TOKEN_REJECTED, "denied", "UNAUTHENTICATED")
    assert (event.actor_id, event.actor_kind, event.actor_name) == (None, ActorKind.ANONYMOUS, "ci-bot")
    assert (event.target_type, event.target_id, event.target_name) == ("api_token", str(token.pk), "gone")
    assert event.changes == {"reason": f"API token {state}", "prefix": token.prefix}
    assert (event.workspace_id, event.source_ip, event.request_id, event.auth_method) == (world.workspace.pk, "203.0.113.7", "req-42", "token")
    assert plaintext not in json.dumps(event.changes) and tokens.split(plaintext)[1] not in event.user_agent


@pytest.mark.parametrize(
    "header, prefix",
    [
        ("Bearer wdn_0123456789ab_not-the-secret", "0123456789ab"),  # well formed, no such token
        ("Bearer not-a-warden-token", None),
        ("Basic !!!", None),
        ("Negotiate abc", None),
    ],
)
def test_a_bad_credential_is_one_bounded_event(world, client, audit_inserts, header, prefix):
    world.mark()
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/2.0/mlflow/experiments/search", {"max_results": 1}, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert audit_inserts(captured) == 1
    [event] = world.events()
    assert event.action == actions.AUTH_TOKEN_REJECTED and event.target_id == "" and event.workspace_id is None
    assert event.changes["prefix"] == prefix and "not-the-secret" not in json.dumps(event.changes)


def test_a_bad_token_on_wardens_api_is_recorded_once(world, client, audit_inserts):
    world.mark()
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer wdn_0123456789ab_wrong")
    assert response.status_code in (401, 403)
    assert audit_inserts(captured) == 1
    assert [e.action for e in world.events()] == [actions.AUTH_TOKEN_REJECTED]


# ---------------------------------------------------------------- rollbacks


def test_changes_rolled_back_by_an_outer_transaction_leave_no_event(world):
    experiment = world.experiment()
    world.mark()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            tracking.experiment_delete(actor=world.ada, experiment=experiment)
            account_services.grant_set(actor=world.ada, obj=experiment, level=Level.READ, user=world.vic)
            assert len(world.events()) == 2  # written in the transaction ...
            raise RuntimeError("a later step failed")
    assert world.events() == []  # ... and gone with it
    assert Experiment.objects.get(pk=experiment.pk).lifecycle_stage == LifecycleStage.ACTIVE


def test_a_service_failing_after_its_event_leaves_no_event(world, artifact_root, tmp_path):
    """artifact_delete records, then the storage refuses (a symlink leading out of the store):
    the event goes with the failed change."""
    run = world.run()
    folder = artifact_root.joinpath(*run_artifact_root(run).split("/"))
    folder.mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", folder / "escape")
    world.mark()
    with pytest.raises(Exception, match="not a plain file or folder"):
        artifact_services.artifact_delete(actor=world.ada, run=run, path="escape")
    assert world.events() == []


def test_a_refused_change_leaves_no_event(world):
    model = world.registered_model()
    registry_services.registered_model_rename(actor=world.ada, model=world.registered_model("other"), new_name="taken")
    world.mark()
    with pytest.raises(Exception, match="already exists"):
        registry_services.registered_model_rename(actor=world.ada, model=model, new_name="taken")
    assert world.events() == []


# ---------------------------------------------------------------- cost


def _audit_statements(captured):
    return [query["sql"] for query in captured.captured_queries if "audit_" in query["sql"]]


@pytest.mark.parametrize(
    "path, body",
    [
        ("experiments/update", {"experiment_id": None, "new_name": "renamed"}),
        ("experiments/delete", {"experiment_id": None}),
    ],
)
def test_an_audited_request_adds_exactly_one_insert(world, as_user, path, body):
    experiment = world.experiment()
    api, _ = as_user(world.mia)
    body = {**body, "experiment_id": experiment.wire_id}
    with CaptureQueriesContext(connection) as captured:
        assert api.post(path, body).status_code == 200
    [statement] = _audit_statements(captured)
    assert statement.startswith('INSERT INTO "audit_auditevent"')
    # naming the target and its workspace reads nothing more: the access helpers fetched them
    assert not [q for q in captured.captured_queries if q["sql"].startswith('SELECT "accounts_workspace"')]


def test_a_denied_request_adds_exactly_one_insert(world, as_user):
    experiment = world.experiment()
    api, _ = as_user(world.vic)
    with CaptureQueriesContext(connection) as captured:
        assert api.post("experiments/delete", {"experiment_id": experiment.wire_id}).status_code == 403
    [statement] = _audit_statements(captured)
    assert statement.startswith('INSERT INTO "audit_auditevent"')
