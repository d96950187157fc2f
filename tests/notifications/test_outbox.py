"""Domain events: written to the outbox in the change's transaction, in MLflow's payload shapes,
fanned out once into deliveries, and found again by the drain when no task took them."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from accounts.permissions import Level
from notifications import outbox
from notifications.models import Channel, Delivery, OutboxEvent, Watch
from registry.models import RegisteredModel
from tests.notifications.conftest import create_webhook

pytestmark = pytest.mark.usefixtures("webhook_settings")


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def events() -> list[tuple[str, dict]]:
    return [(e.event_type, e.payload) for e in OutboxEvent.objects.order_by("id")]


@pytest.fixture
def run(api):
    experiment_id = ok(api.post("experiments/create", {"name": "exp"}))["experiment_id"]
    return ok(api.post("runs/create", {"experiment_id": experiment_id}))["run"]["info"]


def test_registry_changes_emit_mlflows_events_with_mlflows_payloads(api, run):
    ok(api.post("registered-models/create", {"name": "iris", "description": "flowers", "tags": [{"key": "k", "value": "v"}]}))
    source = f"runs:/{run['run_id']}/model"
    ok(api.post("model-versions/create", {"name": "iris", "source": source, "run_id": run["run_id"], "tags": [{"key": "t", "value": "1"}]}))
    ok(api.post("model-versions/set-tag", {"name": "iris", "version": "1", "key": "t", "value": "2"}))
    ok(api.delete("model-versions/delete-tag", {"name": "iris", "version": "1", "key": "t"}))
    ok(api.post("registered-models/alias", {"name": "iris", "alias": "staging", "version": "1"}))
    ok(api.delete("registered-models/alias", {"name": "iris", "alias": "staging"}))
    ok(api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Staging"}))
    assert events() == [
        ("registered_model.created", {"name": "iris", "tags": {"k": "v"}, "description": "flowers"}),
        ("model_version.created", {"name": "iris", "version": "1", "source": source, "run_id": run["run_id"], "tags": {"t": "1"}, "description": None}),
        ("model_version_tag.set", {"name": "iris", "version": "1", "key": "t", "value": "2"}),
        ("model_version_tag.deleted", {"name": "iris", "version": "1", "key": "t"}),
        ("model_version_alias.created", {"name": "iris", "alias": "staging", "version": "1"}),
        ("model_version_alias.deleted", {"name": "iris", "alias": "staging"}),
        ("model_version.stage_transitioned", {"name": "iris", "version": "1", "stage": "Staging", "archive_existing_versions": False}),
    ]
    model = RegisteredModel.objects.get(name="iris")
    assert set(OutboxEvent.objects.values_list("target_type", "target_id")) == {("registered_model", model.pk)}


def test_runs_experiments_and_grants_emit_wardens_events(api, run, member, make_user, workspace):
    ok(api.post("runs/update", {"run_id": run["run_id"], "status": "FINISHED", "end_time": 5}))
    ok(api.post("runs/update", {"run_id": run["run_id"], "run_name": "renamed"}))  # no status: not an ending
    other = ok(api.post("runs/create", {"experiment_id": run["experiment_id"]}))["run"]["info"]
    ok(api.post("runs/update", {"run_id": other["run_id"], "status": "FAILED"}))
    bob = make_user("bob", workspace, Role.VIEWER)
    grant = api.client.post(
        f"/api/v1/workspaces/acme/experiments/{run['experiment_id']}/grants", {"user": "bob", "level": "EDIT"},
        content_type="application/json", **api.headers,
    )
    assert grant.status_code == 201, grant.content
    ok(api.post("experiments/delete", {"experiment_id": run["experiment_id"]}))
    names = [name for name, _ in events()]
    assert names == ["run.finished", "run.failed", "grant.changed", "experiment.deleted"]
    finished = events()[0][1]
    assert finished == {
        "run_id": run["run_id"], "run_name": run["run_name"], "experiment_id": run["experiment_id"], "experiment_name": "exp",
        "status": "FINISHED", "user_id": member.username, "end_time": 5,
    }
    assert events()[2][1] == {
        "object_type": "experiment", "object_id": run["experiment_id"], "object_name": "exp",
        "principal_type": "user", "principal": bob.username, "level": "EDIT",
    }
    assert OutboxEvent.objects.filter(actor=member).count() == 4


def test_promotion_requests_emit_when_opened_and_decided(api, run, make_user, workspace, wire):
    ok(api.post("registered-models/create", {"name": "iris"}))
    ok(api.post("model-versions/create", {"name": "iris", "source": f"runs:/{run['run_id']}/model", "run_id": run["run_id"]}))
    RegisteredModel.objects.filter(name="iris").update(protected=True)
    denied = api.post("model-versions/transition-stage", {"name": "iris", "version": "1", "stage": "Production"})
    assert denied.status_code == 403  # a request was opened instead
    approver = wire(make_user("boss", workspace, Role.MAINTAINER), "acme")
    request_id = OutboxEvent.objects.get(event_type="transition_request.created").payload["request_id"]
    approved = approver.client.post(
        f"/api/v1/registry/transition-requests/{request_id}/approve", "{}", content_type="application/json", **approver.headers
    )
    assert approved.status_code == 200, approved.content
    names = [name for name, _ in events()][2:]
    assert names == ["transition_request.created", "model_version.stage_transitioned", "transition_request.approved"]
    assert events()[-1][1]["decided_by"] == "boss" and events()[-1][1]["to_stage"] == "Production"


def test_a_rolled_back_change_leaves_no_event(member, workspace):
    from registry import services

    with pytest.raises(RuntimeError), transaction.atomic():
        services.registered_model_create(actor=member, workspace=workspace, name="ghost")
        raise RuntimeError("the request failed after the write")
    assert not OutboxEvent.objects.exists()


def test_dispatch_fans_out_once_to_subscribers_and_watchers(wire, make_user, workspace, member, api, receiver, django_capture_on_commit_callbacks):
    admin_api = wire(make_user("ada", workspace, Role.ADMIN), "acme")
    create_webhook(admin_api, receiver.url, name="versions", events=("registered_model.created",))
    create_webhook(admin_api, receiver.url, name="runs-only", events=("run.finished",))
    create_webhook(admin_api, receiver.url, name="off", events=("registered_model.created",), status="DISABLED")
    watcher = make_user("wendy", workspace, Role.VIEWER)
    with django_capture_on_commit_callbacks() as callbacks:
        ok(api.post("registered-models/create", {"name": "iris"}))
    model = RegisteredModel.objects.get(name="iris")
    Watch.objects.create(user=watcher, workspace=workspace, target_type="registered_model", target_id=model.pk)
    Watch.objects.create(user=member, workspace=workspace, target_type="registered_model", target_id=model.pk)  # the actor
    dispatches = [callback for callback in callbacks if "emit" in getattr(callback, "__qualname__", "")]
    assert len(dispatches) == 1  # one dispatch, enqueued after commit
    event = OutboxEvent.objects.get(event_type="registered_model.created")
    first = outbox.dispatch_event(event.pk)
    assert outbox.dispatch_event(event.pk) == []  # a second run (a redelivered task) does nothing
    rows = Delivery.objects.filter(pk__in=first)
    assert sorted((d.channel, d.webhook.name if d.webhook else d.recipient.username) for d in rows) == [
        (Channel.EMAIL, "wendy"), (Channel.WEBHOOK, "versions")
    ]
    assert Delivery.objects.count() == 2


def test_the_drain_dispatches_events_no_task_took(api, settings, django_capture_on_commit_callbacks):
    settings.WARDEN_OUTBOX_DRAIN_GRACE = 0
    with django_capture_on_commit_callbacks(execute=False):  # the broker never got the task
        ok(api.post("registered-models/create", {"name": "iris"}))
    assert OutboxEvent.objects.get().dispatched_at is None
    assert outbox.drain() == {"events": 1, "deliveries": 0}
    assert OutboxEvent.objects.get().dispatched_at is not None
    assert outbox.drain() == {"events": 0, "deliveries": 0}
    OutboxEvent.objects.update(dispatched_at=timezone.now() - timedelta(days=settings.WARDEN_NOTIFICATION_RETENTION_DAYS + 1))
    outbox.drain()
    assert not OutboxEvent.objects.exists()  # past retention


def test_grant_revocation_is_an_event_too(member, workspace, make_user):
    from experiments import services as tracking

    experiment = tracking.experiment_create(actor=member, workspace=workspace, name="e")
    bob = make_user("bob", workspace, Role.VIEWER)
    account_services.grant_set(actor=member, obj=experiment, level=Level.READ, user=bob)
    account_services.grant_revoke(actor=member, obj=experiment, user=bob)
    assert [p["level"] for name, p in events() if name == "grant.changed"] == ["READ", None]
