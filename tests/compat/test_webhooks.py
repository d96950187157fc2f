"""MLflow's webhook client calls against Warden: create, list, get, update, test, delete, and a
registry event signed the way MLflow signs it (tasks run in-process here)."""

import json

import pytest
from mlflow.entities.webhook import WebhookEvent, WebhookStatus
from mlflow.exceptions import RestException
from mlflow.webhooks.delivery import _generate_hmac_signature

from accounts.models import Role
from tests.notifications.conftest import Receiver

pytestmark = [pytest.mark.compat, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(settings):
    settings.WARDEN_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = Receiver()
    yield server
    server.close()


def test_the_mlflow_client_manages_webhooks_and_gets_signed_events(login, make_user, workspace, mlflow_client, receiver):
    login(make_user("ada", workspace, Role.ADMIN), "acme")
    hook = mlflow_client.create_webhook(
        name="registry-events", url=receiver.url + "/in", events=[WebhookEvent("registered_model", "created")],
        description="to the CD system", secret="shh",
    )
    assert hook.status == WebhookStatus.ACTIVE and hook.secret is None
    assert [w.webhook_id for w in mlflow_client.list_webhooks()] == [hook.webhook_id]
    assert mlflow_client.get_webhook(hook.webhook_id).description == "to the CD system"
    updated = mlflow_client.update_webhook(hook.webhook_id, description="CD")
    assert updated.description == "CD"

    result = mlflow_client.test_webhook(hook.webhook_id)
    assert result.success and result.response_status == 200 and not result.response_body

    mlflow_client.create_registered_model("iris")
    requests = receiver.wait_for(2)
    event = requests[1]
    assert json.loads(event["body"])["data"] == {"name": "iris", "tags": {}, "description": None}
    headers = event["headers"]
    assert headers["X-MLflow-Signature"] == _generate_hmac_signature(
        "shh", headers["X-MLflow-Delivery-Id"], headers["X-MLflow-Timestamp"], event["body"]
    )

    mlflow_client.delete_webhook(hook.webhook_id)
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        mlflow_client.get_webhook(hook.webhook_id)
