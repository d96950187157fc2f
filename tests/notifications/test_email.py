"""Watches and e-mail: watch what you can READ, get mail about it through Django's e-mail
backend (locmem here, tasks eager), and nothing once you lost access before the mail went out."""

import pytest
from django.core import mail

from accounts import services as account_services
from accounts.models import Role
from notifications.models import Delivery, DeliveryStatus, Watch
from registry.models import RegisteredModel


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "warden@example.com"


def watch_url(kind, key):
    return f"/api/v1/workspaces/acme/watches/{kind}/{key}"


@pytest.fixture
def viewer(make_user, workspace):
    return make_user("wendy", workspace, Role.VIEWER, email="wendy@example.com")


@pytest.fixture
def viewer_api(wire, viewer):
    return wire(viewer, "acme")


@pytest.fixture
def model(api):
    assert api.post("registered-models/create", {"name": "iris"}).status_code == 200
    return RegisteredModel.objects.get(name="iris")


def put(api, url):
    return api.client.put(url, "", content_type="application/json", **api.headers)


def test_watch_what_you_can_read_and_only_that(viewer_api, api, model, workspace):
    experiment_id = api.post("experiments/create", {"name": "exp"}).json()["experiment_id"]
    assert put(viewer_api, watch_url("registered-models", "iris")).status_code == 201
    assert put(viewer_api, watch_url("registered-models", "iris")).status_code == 200  # idempotent
    assert put(viewer_api, watch_url("experiments", experiment_id)).status_code == 201
    listed = viewer_api.client.get("/api/v1/workspaces/acme/watches", **viewer_api.headers).json()
    assert [(w["target_type"], w["target_id"]) for w in listed] == [("registered_model", model.pk), ("experiment", int(experiment_id))]
    RegisteredModel.objects.filter(pk=model.pk).update(restricted=True)  # now invisible to a viewer
    hidden = put(viewer_api, watch_url("registered-models", "iris"))
    missing = put(viewer_api, watch_url("registered-models", "nope"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace("iris", "X") == missing.json()["detail"].replace("nope", "X")
    deleted = viewer_api.client.delete(watch_url("experiments", experiment_id), **viewer_api.headers)
    assert deleted.status_code == 204
    assert viewer_api.client.delete(watch_url("experiments", experiment_id), **viewer_api.headers).status_code == 404


def test_a_watcher_gets_mail_and_the_actor_does_not(viewer_api, api, model, member, django_capture_on_commit_callbacks):
    member.email = "mia@example.com"
    member.save()
    put(viewer_api, watch_url("registered-models", "iris"))
    put(api, watch_url("registered-models", "iris"))  # the actor watches too
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("registered-models/set-tag", {"name": "iris", "key": "k", "value": "v"}).status_code == 200
        response = api.post("registered-models/alias", {"name": "iris", "alias": "prod", "version": "1"})
    assert response.status_code == 404  # no version 1 yet: nothing happened, nothing sent
    assert mail.outbox == []
    run = api.post("runs/create", {"experiment_id": "0"}).json()["run"]["info"]
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("model-versions/create", {"name": "iris", "source": f"runs:/{run['run_id']}/model", "run_id": run["run_id"]})
        assert created.status_code == 200
    (message,) = mail.outbox
    assert message.to == ["wendy@example.com"] and message.from_email == "warden@example.com"
    assert "model_version.created" in message.subject and "iris" in message.subject
    assert "version: 1" in message.body and "Workspace: acme" in message.body
    assert Delivery.objects.get(recipient__username="wendy").status == DeliveryStatus.SUCCEEDED


def test_access_is_checked_again_when_the_mail_is_sent(viewer, viewer_api, api, model, workspace, django_capture_on_commit_callbacks):
    put(viewer_api, watch_url("registered-models", "iris"))
    run = api.post("runs/create", {"experiment_id": "0"}).json()["run"]["info"]
    with django_capture_on_commit_callbacks() as callbacks:
        assert api.post("model-versions/create", {"name": "iris", "source": f"runs:/{run['run_id']}/model", "run_id": run["run_id"]}).status_code == 200
    # Before the worker sends it, the watcher leaves the workspace.
    account_services.membership_remove(actor=None, workspace=workspace, user=viewer)
    with django_capture_on_commit_callbacks(execute=True):  # now the worker runs: dispatch, then send
        for callback in callbacks:
            callback()
    assert mail.outbox == []
    delivery = Delivery.objects.get(recipient=viewer)
    assert delivery.status == DeliveryStatus.SKIPPED and delivery.attempt_log.get().error == "NoAccess"
    assert Watch.objects.filter(user=viewer).exists()  # the watch stays; a re-invited user gets mail again
