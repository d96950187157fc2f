"""Webhooks delivered by a real Celery worker over a real Redis broker to a real receiver.

The MLflow API is driven through the test client (in this process, committing for real); after
commit the dispatch task goes to Redis and the worker process fans out and sends. The receiver
is an HTTP server thread on 127.0.0.1, allowlisted for this test and for the worker.
"""

import base64
import hashlib
import hmac
import json
import time

import pytest

from accounts.models import Role
from notifications.models import Delivery, DeliveryStatus
from tests.notifications.conftest import create_webhook

WORKER_ENV = {
    "WARDEN_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "WARDEN_WEBHOOK_RETRY_BASE": "0.2",
    "WARDEN_WEBHOOK_MAX_ATTEMPTS": "4",
    "WARDEN_OUTBOX_DRAIN_GRACE": "0",
}
pytestmark = [pytest.mark.celery_worker(env=WORKER_ENV), pytest.mark.usefixtures("webhook_settings")]

SECRET = "whsec-test-signing-key"


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def new_version(api, name="iris"):
    ok(api.post("registered-models/create", {"name": name}))
    run = ok(api.post("runs/create", {"experiment_id": "0"}))["run"]["info"]
    ok(api.post("model-versions/create", {"name": name, "source": f"runs:/{run['run_id']}/model", "run_id": run["run_id"]}))
    return run


def wait_until(condition, timeout=30.0, message=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(message or "condition not met in time")


def verify(secret: str, headers: dict, body: str) -> bool:
    """What a receiver does (MLflow's documented check): HMAC the id, timestamp and raw body."""
    signed = f"{headers['X-MLflow-Delivery-Id']}.{headers['X-MLflow-Timestamp']}.{body}".encode()
    expected = "v1," + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, headers["X-MLflow-Signature"])


@pytest.fixture
def admin_api(wire, make_user, workspace):
    return wire(make_user("ada", workspace, Role.ADMIN), "acme")


def deliveries_log(api, webhook_id):
    response = api.client.get(f"/api/v1/workspaces/acme/webhooks/{webhook_id}/deliveries", **api.headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_receiver_gets_signed_payloads_that_verify(real_worker, admin_api, api, receiver):
    from mlflow.webhooks.delivery import _generate_hmac_signature

    hook = create_webhook(admin_api, receiver.url + "/mlflow", secret=SECRET, events=("model_version.created", "run.finished"))
    run = new_version(api)
    ok(api.post("runs/update", {"run_id": run["run_id"], "status": "FINISHED", "end_time": 7}))
    requests = receiver.wait_for(2)
    for request in requests:
        headers = request["headers"]
        assert request["path"] == "/mlflow" and headers["Content-Type"] == "application/json"
        assert verify(SECRET, headers, request["body"]), headers
        assert not verify("some-other-secret", headers, request["body"])
        assert headers["X-MLflow-Signature"] == _generate_hmac_signature(
            SECRET, headers["X-MLflow-Delivery-Id"], headers["X-MLflow-Timestamp"], request["body"]
        )
        assert abs(int(headers["X-MLflow-Timestamp"]) - time.time()) < 120
    by_event = {(p["entity"], p["action"]): p for p in receiver.payloads()}
    created = by_event[("model_version", "created")]
    assert list(created) == ["entity", "action", "timestamp", "data", "workspace"]
    assert created["workspace"] == "acme"
    assert created["data"] == {
        "name": "iris", "version": "1", "source": f"runs:/{run['run_id']}/model", "run_id": run["run_id"], "tags": {}, "description": None
    }
    assert by_event[("run", "finished")]["data"]["end_time"] == 7
    delivery_ids = {r["headers"]["X-MLflow-Delivery-Id"] for r in requests}
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2, message=real_worker.log())
    assert {str(pk) for pk in Delivery.objects.values_list("id", flat=True)} == delivery_ids
    assert [d["status"] for d in deliveries_log(admin_api, hook["webhook_id"])] == ["succeeded", "succeeded"]


def test_a_failing_receiver_sees_retries_with_one_delivery_id_and_the_log_records_each(real_worker, admin_api, api, receiver):
    receiver.script = [500, 503, 200]
    hook = create_webhook(admin_api, receiver.url, secret=SECRET)
    new_version(api)
    requests = receiver.wait_for(3)
    assert len({r["headers"]["X-MLflow-Delivery-Id"] for r in requests}) == 1  # the same delivery, three times
    assert len({r["body"] for r in requests}) == 1 and all(verify(SECRET, r["headers"], r["body"]) for r in requests)
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists(), message=real_worker.log())
    (entry,) = deliveries_log(admin_api, hook["webhook_id"])
    assert entry["attempts"] == 3 and entry["status"] == "succeeded"
    assert [(a["number"], a["status_code"], a["error"], a["succeeded"]) for a in entry["attempt_log"]] == [
        (1, 500, "HTTPError", False), (2, 503, "HTTPError", False), (3, 200, "", True)
    ]
    assert all(a["duration_ms"] >= 0 for a in entry["attempt_log"])


def test_attempts_are_bounded(real_worker, admin_api, api, receiver):
    receiver.script = [500] * 10
    hook = create_webhook(admin_api, receiver.url)
    new_version(api)
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.FAILED).exists(), message=real_worker.log())
    (entry,) = deliveries_log(admin_api, hook["webhook_id"])
    assert entry["attempts"] == 4 and [a["status_code"] for a in entry["attempt_log"]] == [500] * 4
    time.sleep(1.0)  # longer than the next backoff would be
    assert len(receiver.requests) == 4


def test_a_redirect_is_not_followed(real_worker, admin_api, api, receiver):
    receiver.script = [302]
    hook = create_webhook(admin_api, receiver.url + "/hook")
    new_version(api)
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.FAILED).exists(), message=real_worker.log())
    assert [r["path"] for r in receiver.requests] == ["/hook"]  # never /redirected
    (entry,) = deliveries_log(admin_api, hook["webhook_id"])
    assert [(a["status_code"], a["error"]) for a in entry["attempt_log"]] == [(302, "RedirectRefused")]


def test_a_private_address_is_refused_again_when_the_worker_sends(real_worker, admin_api, api, receiver, settings):
    """Allowlisted here (so the webhook could be saved) but not for the worker: the worker's
    guard refuses the loopback peer, the receiver never hears of it."""
    real_worker.stop()
    real_worker.extra_env = {**WORKER_ENV, "WARDEN_WEBHOOK_ALLOWED_HOSTS": "receiver.invalid"}
    real_worker.start()
    hook = create_webhook(admin_api, receiver.url + "/hook")
    new_version(api)
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.FAILED).exists(), message=real_worker.log())
    (entry,) = deliveries_log(admin_api, hook["webhook_id"])
    assert [a["error"] for a in entry["attempt_log"]] == ["UrlRefused"]
    assert receiver.requests == []
    assert json.dumps(entry).find("receiver-private-reply") == -1


@pytest.mark.celery_worker(env={**WORKER_ENV, "WARDEN_WEBHOOK_TIMEOUT": "2"})  # a claim's lease: 2 x 2 + 5 s
def test_a_worker_killed_mid_delivery_leaves_it_to_be_sent_again_with_the_same_id(real_worker, admin_api, api, receiver):
    """At-least-once: the claim's lease runs out, the drain hands the delivery to a new worker."""
    from notifications import tasks

    receiver.script = [(1.5, 200)]  # the first attempt is still waiting when the worker dies
    create_webhook(admin_api, receiver.url)
    new_version(api)
    receiver.wait_for(1)
    real_worker.kill()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.lease_until is not None and delivery.attempts == 1
    real_worker.start()
    deadline = time.monotonic() + 30
    while len(receiver.requests) < 2 and time.monotonic() < deadline:
        tasks.enqueue(tasks.drain)  # beat's sweep; the delivery is due again once the lease ran out
        time.sleep(0.5)
    first, second = receiver.requests[:2]
    assert first["headers"]["X-MLflow-Delivery-Id"] == second["headers"]["X-MLflow-Delivery-Id"] == str(delivery.pk)
    assert first["body"] == second["body"]
    wait_until(lambda: Delivery.objects.get().status == DeliveryStatus.SUCCEEDED, message=real_worker.log())
