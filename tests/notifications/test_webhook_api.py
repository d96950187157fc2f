"""MLflow's webhook API on Warden: shapes the mlflow client parses, workspace scoping, admin-only
management, write-only secrets, validation (the SSRF guard at create), the test call and the
delivery log."""

import json

import pytest
from mlflow.entities.webhook import Webhook as MlflowWebhook
from mlflow.entities.webhook import WebhookEvent, WebhookStatus
from mlflow.protos.webhooks_pb2 import CreateWebhook, GetWebhook, ListWebhooks
from mlflow.utils.proto_json_utils import message_to_json, parse_dict

from accounts.models import Role
from audit.models import AuditEvent
from notifications.models import Delivery, Webhook
from tests.notifications.conftest import create_webhook, event_json

pytestmark = pytest.mark.usefixtures("webhook_settings")

SECRET = "s3cr3t-signing-key-value"


def test_create_list_get_update_delete_round_trip_in_mlflow_shapes(admin_api, receiver):
    # The body exactly as the mlflow client builds it.
    body = json.loads(message_to_json(CreateWebhook(
        name="deploys", url=receiver.url + "/hook", description="to CD",
        events=[WebhookEvent("model_version", "created").to_proto(), WebhookEvent("model_version_alias", "created").to_proto()],
        secret=SECRET, status=WebhookStatus.ACTIVE.to_proto(),
    )))
    created = admin_api.post("webhooks", body)
    assert created.status_code == 200, created.content
    hook = created.json()["webhook"]
    assert set(hook) == {"webhook_id", "name", "url", "description", "events", "status", "creation_timestamp", "last_updated_timestamp"}
    parsed = CreateWebhook.Response()
    parse_dict(created.json(), parsed)
    entity = MlflowWebhook.from_proto(parsed.webhook)
    assert entity.name == "deploys" and entity.status == WebhookStatus.ACTIVE
    assert sorted(str(e) for e in entity.events) == ["model_version.created", "model_version_alias.created"]

    got = admin_api.get(f"webhooks/{hook['webhook_id']}")
    assert got.status_code == 200 and got.json()["webhook"] == hook
    listed = admin_api.get("webhooks")
    assert [w["webhook_id"] for w in listed.json()["webhooks"]] == [hook["webhook_id"]]

    updated = admin_api.patch(f"webhooks/{hook['webhook_id']}", {"status": "DISABLED", "secret": "another-secret"})
    assert updated.status_code == 200 and updated.json()["webhook"]["status"] == "DISABLED"
    assert Webhook.objects.get(webhook_id=hook["webhook_id"]).secret_plaintext() == "another-secret"

    assert admin_api.delete(f"webhooks/{hook['webhook_id']}").json() == {}
    assert admin_api.get(f"webhooks/{hook['webhook_id']}").status_code == 404
    assert admin_api.get("webhooks").json() == {"webhooks": []}

    for response in (created, got, listed, updated):
        assert SECRET.encode() not in response.content and b"another-secret" not in response.content
    audit = AuditEvent.objects.filter(action__startswith="webhook.").order_by("id")
    assert [e.action for e in audit] == ["webhook.created", "webhook.updated", "webhook.deleted"]
    text = json.dumps([e.changes for e in audit])
    assert SECRET not in text and "another-secret" not in text and "/hook" not in text
    assert audit[0].changes["after"]["signed"] is True and audit[0].target_id == hook["webhook_id"]


def test_warden_events_are_listed_apart_so_the_mlflow_client_still_parses_the_list(admin_api, receiver):
    create_webhook(admin_api, receiver.url, events=("model_version.created", "run.finished", "grant.changed"))
    listed = admin_api.get("webhooks").json()
    (hook,) = listed["webhooks"]
    assert hook["events"] == [{"entity": "MODEL_VERSION", "action": "CREATED"}]
    assert sorted(e["entity"] for e in hook["warden_events"]) == ["GRANT", "RUN"]
    parsed = ListWebhooks.Response()
    parse_dict(listed, parsed)
    assert [str(e) for e in MlflowWebhook.from_proto(parsed.webhooks[0]).events] == ["model_version.created"]
    # A round trip of what GET answered keeps the Warden events.
    patched = admin_api.patch(f"webhooks/{hook['webhook_id']}", {"events": hook["events"], "warden_events": hook["warden_events"]})
    assert patched.json()["webhook"]["warden_events"] == hook["warden_events"]


def test_names_are_unique_per_workspace_and_other_workspaces_webhooks_do_not_exist(
    admin_api, receiver, wire, make_user, other_workspace
):
    hook = create_webhook(admin_api, receiver.url, name="hook")
    again = admin_api.post("webhooks", {"name": "hook", "url": receiver.url, "events": [event_json("model_version.created")]})
    assert again.status_code == 400 and again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    other_admin = wire(make_user("olga", other_workspace, Role.ADMIN), "globex")
    theirs = create_webhook(other_admin, receiver.url, name="hook")  # the same name elsewhere is fine
    for method, suffix, body in (("get", "", None), ("patch", "", {"status": "DISABLED"}), ("delete", "", None), ("post", "/test", {})):
        call = getattr(admin_api, method)
        foreign = call(f"webhooks/{theirs['webhook_id']}{suffix}", *([body] if body is not None else []))
        missing_id = "00000000-0000-4000-8000-000000000000"
        missing = call(f"webhooks/{missing_id}{suffix}", *([body] if body is not None else []))
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json()["message"].replace(theirs["webhook_id"], "X") == missing.json()["message"].replace(missing_id, "X")
    assert [w["webhook_id"] for w in admin_api.get("webhooks").json()["webhooks"]] == [hook["webhook_id"]]
    assert Webhook.objects.get(webhook_id=theirs["webhook_id"]).status == "ACTIVE"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.MAINTAINER])
def test_only_admins_see_or_manage_webhooks(wire, make_user, workspace, admin_api, receiver, role):
    hook = create_webhook(admin_api, receiver.url)
    caller = wire(make_user("someone", workspace, role), "acme")
    for response in (
        caller.get("webhooks"),
        caller.get(f"webhooks/{hook['webhook_id']}"),
        caller.post("webhooks", {"name": "mine", "url": receiver.url, "events": [event_json("model_version.created")]}),
        caller.delete(f"webhooks/{hook['webhook_id']}"),
    ):
        assert response.status_code == 403 and response.json()["error_code"] == "PERMISSION_DENIED"
    assert Webhook.objects.filter(deleted_timestamp__isnull=True).count() == 1


def test_a_read_only_admin_token_reads_but_never_changes(wire, admin, admin_api, receiver):
    hook = create_webhook(admin_api, receiver.url)
    reader = wire(admin, "acme", read_only=True)
    assert reader.get("webhooks").status_code == 200
    assert reader.patch(f"webhooks/{hook['webhook_id']}", {"status": "DISABLED"}).status_code == 403
    assert reader.post(f"webhooks/{hook['webhook_id']}/test", {}).status_code == 403
    assert receiver.requests == []


@pytest.mark.parametrize(
    "field,value,needle",
    [
        ("name", "-bad-", "name"),
        ("name", "x" * 64, "name"),
        ("events", [], "non-empty"),
        ("events", [{"entity": "EXPERIMENT_RUN", "action": "CREATED"}], "entity"),
        ("events", [{"entity": "MODEL_VERSION", "action": "DELETED"}], "Valid actions"),
        ("url", "http://hooks.example.com/x", "scheme"),
        ("url", "ftp://127.0.0.1/x", "scheme"),
        ("url", "https://user:pw@hooks.example.com/x", "user info"),
        ("url", "https://10.0.0.7/x", "non-public"),
        ("url", "https://169.254.169.254/latest/meta-data/", "non-public"),
        ("url", "https://[::ffff:127.0.0.1]/x", "non-public"),
        ("url", "https://[64:ff9b::a00:1]/x", "non-public"),
        ("url", "https://[2002:c0a8:101::1]/x", "non-public"),
        ("url", "https://127.1/x", "canonical"),
        ("url", "https://0177.0.0.1/x", "canonical"),
        ("url", "https://localhost:8443/x", "non-public"),
        ("status", "PAUSED", "status"),
    ],
)
def test_bad_webhooks_are_refused_and_nothing_is_kept(admin_api, field, value, needle):
    body = {"name": "ok-name", "url": "https://127.0.0.1/hook", "events": [event_json("model_version.created")], field: value}
    response = admin_api.post("webhooks", body)
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert needle.lower() in response.json()["message"].lower()
    assert not Webhook.objects.exists() and not AuditEvent.objects.filter(action="webhook.created").exists()


def test_the_test_call_sends_a_signed_example_and_reports_only_the_status(admin_api, receiver):
    from mlflow.webhooks.delivery import _generate_hmac_signature

    hook = create_webhook(admin_api, receiver.url + "/hook", secret=SECRET, events=("model_version_alias.created", "run.failed"))
    response = admin_api.post(f"webhooks/{hook['webhook_id']}/test", {"event": event_json("run.failed")})
    assert response.json() == {"result": {"success": True, "response_status": 200}}
    (request,) = receiver.requests
    headers = request["headers"]
    assert headers["X-MLflow-Signature"] == _generate_hmac_signature(
        SECRET, headers["X-MLflow-Delivery-Id"], headers["X-MLflow-Timestamp"], request["body"]
    )
    payload = json.loads(request["body"])
    assert (payload["entity"], payload["action"], payload["workspace"]) == ("run", "failed", "acme")
    assert payload["data"]["status"] == "FAILED"

    receiver.script = [500]
    failed = admin_api.post(f"webhooks/{hook['webhook_id']}/test", {})
    assert failed.json()["result"]["success"] is False and failed.json()["result"]["response_status"] == 500
    assert b"receiver-private-reply" not in failed.content
    assert json.loads(receiver.requests[1]["body"])["entity"] == "model_version_alias"  # the first event by default

    log = admin_api.client.get(f"/api/v1/workspaces/acme/webhooks/{hook['webhook_id']}/deliveries", **admin_api.headers)
    assert log.status_code == 200
    assert [(d["is_test"], d["status"], [a["status_code"] for a in d["attempt_log"]]) for d in log.json()] == [
        (True, "failed", [500]), (True, "succeeded", [200])
    ]
    assert b"receiver-private-reply" not in log.content and SECRET.encode() not in log.content
    assert AuditEvent.objects.filter(action="webhook.tested").count() == 2


def test_the_delivery_log_is_for_admins_of_the_webhooks_workspace(admin_api, receiver, wire, make_user, workspace, other_workspace):
    hook = create_webhook(admin_api, receiver.url)
    url = f"/api/v1/workspaces/acme/webhooks/{hook['webhook_id']}/deliveries"
    maintainer = wire(make_user("max", workspace, Role.MAINTAINER), "acme")
    assert maintainer.client.get(url, **maintainer.headers).status_code == 403
    outsider = wire(make_user("olga", other_workspace, Role.ADMIN), "globex")
    assert outsider.client.get(url, **outsider.headers).status_code == 404
    assert outsider.client.get(url.replace("/acme/", "/globex/"), **outsider.headers).status_code == 404


def test_list_pages_with_an_opaque_token(admin_api, receiver):
    ids = [create_webhook(admin_api, receiver.url, name=f"hook-{n}")["webhook_id"] for n in range(3)]
    first = admin_api.get("webhooks", {"max_results": 2}).json()
    assert len(first["webhooks"]) == 2 and first["next_page_token"]
    second = admin_api.get("webhooks", {"max_results": 2, "page_token": first["next_page_token"]}).json()
    assert "next_page_token" not in second
    assert sorted(w["webhook_id"] for w in first["webhooks"] + second["webhooks"]) == sorted(ids)
    assert admin_api.get("webhooks", {"page_token": "forged"}).status_code == 400
    assert admin_api.get("webhooks", {"max_results": 1001}).status_code == 400
    parsed = GetWebhook.Response()
    parse_dict(admin_api.get(f"webhooks/{ids[0]}").json(), parsed)
    assert parsed.webhook.webhook_id == ids[0]
    assert Delivery.objects.count() == 0



def test_retry_after_is_honoured_within_the_cap(admin_api, api, receiver, django_capture_on_commit_callbacks):
    """A 429 with ``Retry-After: 120`` schedules the next attempt two minutes out, not at the backoff."""
    from datetime import timedelta

    from django.utils import timezone

    create_webhook(admin_api, receiver.url, events=("registered_model.created",))
    receiver.script = [{"status": 429, "headers": {"Retry-After": "120"}}]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("registered-models/create", {"name": "iris"}).status_code == 200
    pending = Delivery.objects.get()
    assert (pending.status, pending.attempts, pending.attempt_log.get().status_code) == ("pending", 1, 429)
    assert timedelta(seconds=100) < pending.next_attempt_at - timezone.now() <= timedelta(seconds=120)
