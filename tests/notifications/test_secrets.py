"""Webhook secrets at rest: encrypted in the column, decrypted only to sign, with key rotation.

A secret that no configured key decrypts (the key was changed without keeping the old one)
fails its deliveries with a logged error and never turns an API call into a 500.
"""

import importlib
import io
import json
import logging

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from mlflow.webhooks.delivery import _generate_hmac_signature

from audit.models import AuditEvent
from notifications import encryption
from notifications.apps import encryption_keys_check
from notifications.models import Delivery, Webhook
from tests.notifications.conftest import create_webhook, event_json

pytestmark = pytest.mark.usefixtures("webhook_settings")

SECRET = "whsec-at-rest-value"
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def stored_column(webhook_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM notifications_webhook WHERE webhook_id = %s", [webhook_id])
        return cursor.fetchone()[0]


def signed_test_call(api, receiver, hook) -> dict:
    """Trigger the test call; assert the receiver's own check accepts the signature."""
    response = api.post(f"webhooks/{hook['webhook_id']}/test", {"event": event_json("model_version.created")})
    assert response.status_code == 200, response.content
    request = receiver.requests[-1]
    headers = request["headers"]
    assert headers["X-MLflow-Signature"] == _generate_hmac_signature(
        SECRET, headers["X-MLflow-Delivery-Id"], headers["X-MLflow-Timestamp"], request["body"]
    )
    return response.json()


def test_the_column_holds_a_token_that_decrypts_to_the_secret_and_no_row_shows_it(admin_api, receiver, settings):
    settings.WARDEN_ENCRYPTION_KEY = KEY_A
    hook = create_webhook(admin_api, receiver.url, secret=SECRET)
    stored = stored_column(hook["webhook_id"])
    assert stored and SECRET not in stored
    assert Fernet(KEY_A).decrypt(stored.encode()).decode() == SECRET
    assert Webhook.objects.get(webhook_id=hook["webhook_id"]).secret_plaintext() == SECRET
    assert signed_test_call(admin_api, receiver, hook) == {"result": {"success": True, "response_status": 200}}

    # The same secret twice: two different tokens (Fernet's random IV), neither a hash to match on.
    admin_api.patch(f"webhooks/{hook['webhook_id']}", {"secret": SECRET})
    assert stored_column(hook["webhook_id"]) not in ("", stored)
    audit = json.dumps([e.changes for e in AuditEvent.objects.filter(action__startswith="webhook.")])
    assert SECRET not in audit and stored not in audit and stored_column(hook["webhook_id"]) not in audit

    admin_api.patch(f"webhooks/{hook['webhook_id']}", {"secret": ""})
    assert stored_column(hook["webhook_id"]) == ""
    admin_api.post(f"webhooks/{hook['webhook_id']}/test", {})
    assert "X-MLflow-Signature" not in receiver.requests[-1]["headers"]


def test_without_a_key_setting_the_key_is_derived_from_the_secret_key(settings):
    settings.WARDEN_ENCRYPTION_KEY = ""
    token = encryption.encrypt(SECRET)
    assert Fernet(encryption.derived_key(settings.SECRET_KEY)).decrypt(token.encode()).decode() == SECRET
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(encryption.SecretUnreadable):
        encryption.decrypt(token)


def test_a_secret_under_the_previous_key_still_signs_and_rotation_moves_it(admin_api, receiver, settings):
    settings.WARDEN_ENCRYPTION_KEY = KEY_A
    hook = create_webhook(admin_api, receiver.url, secret=SECRET)
    old_token = stored_column(hook["webhook_id"])

    settings.WARDEN_ENCRYPTION_KEY, settings.WARDEN_ENCRYPTION_KEY_PREVIOUS = KEY_B, [KEY_A]
    assert signed_test_call(admin_api, receiver, hook)["result"]["success"] is True

    call_command("rotate_webhook_secrets", stdout=io.StringIO())
    rotated = stored_column(hook["webhook_id"])
    assert rotated != old_token and Fernet(KEY_B).decrypt(rotated.encode()).decode() == SECRET

    settings.WARDEN_ENCRYPTION_KEY_PREVIOUS = []  # the old key retired
    assert signed_test_call(admin_api, receiver, hook)["result"]["success"] is True


def test_a_wrong_key_fails_the_delivery_with_a_logged_error_and_no_500(admin_api, api, receiver, settings, caplog,
                                                                         django_capture_on_commit_callbacks):
    settings.WARDEN_ENCRYPTION_KEY = KEY_A
    hook = create_webhook(admin_api, receiver.url, secret=SECRET, events=("registered_model.created",))
    settings.WARDEN_ENCRYPTION_KEY = KEY_B  # KEY_A lost

    with caplog.at_level(logging.ERROR, logger="notifications.webhooks.sender"):
        tested = admin_api.post(f"webhooks/{hook['webhook_id']}/test", {})
        with django_capture_on_commit_callbacks(execute=True):
            created = api.post("registered-models/create", {"name": "iris"})
    assert tested.status_code == 200 and tested.json() == {"result": {"success": False, "error_message": "Webhook test failed: SecretUnreadable"}}
    assert created.status_code == 200
    assert receiver.requests == []  # never sent unsigned
    deliveries = Delivery.objects.order_by("created_at")
    assert [(d.is_test, d.status, [a.error for a in d.attempt_log.all()]) for d in deliveries] == [
        (True, "failed", ["SecretUnreadable"]), (False, "failed", ["SecretUnreadable"])
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and all("does not decrypt with WARDEN_ENCRYPTION_KEY" in m and hook["webhook_id"] in m for m in messages)
    assert not any(SECRET in m for m in messages)

    # The API still reads and updates the webhook; a new secret is encrypted under the new key.
    assert admin_api.get(f"webhooks/{hook['webhook_id']}").status_code == 200
    assert admin_api.patch(f"webhooks/{hook['webhook_id']}", {"secret": SECRET}).status_code == 200
    assert signed_test_call(admin_api, receiver, hook)["result"]["success"] is True


def test_rotation_reports_secrets_no_key_decrypts(admin_api, receiver, settings):
    settings.WARDEN_ENCRYPTION_KEY = KEY_A
    hook = create_webhook(admin_api, receiver.url, secret=SECRET)
    settings.WARDEN_ENCRYPTION_KEY = KEY_B
    with pytest.raises(CommandError, match=hook["webhook_id"]):
        call_command("rotate_webhook_secrets", stdout=io.StringIO())
    assert Fernet(KEY_A).decrypt(stored_column(hook["webhook_id"]).encode()).decode() == SECRET  # left as it was


def test_a_malformed_key_is_a_configuration_error_at_check_time(settings):
    settings.WARDEN_ENCRYPTION_KEY = "not-a-fernet-key"
    (error,) = encryption_keys_check(None)
    assert error.id == "warden.E010" and "WARDEN_ENCRYPTION_KEY must be a Fernet key" in error.msg
    assert "not-a-fernet-key" not in error.msg
    settings.WARDEN_ENCRYPTION_KEY = KEY_A
    assert encryption_keys_check(None) == []


def test_the_migration_encrypts_plaintext_rows_and_its_reverse_decrypts_them(admin_api, receiver, settings):
    settings.WARDEN_ENCRYPTION_KEY = KEY_A
    signed = create_webhook(admin_api, receiver.url, name="signed")
    unsigned = create_webhook(admin_api, receiver.url, name="unsigned")
    Webhook.objects.filter(webhook_id=signed["webhook_id"]).update(secret_encrypted=SECRET)  # a row from before
    migration = importlib.import_module("notifications.migrations.0002_webhook_secret_encrypted")

    migration.encrypt_existing(apps, None)
    assert Fernet(KEY_A).decrypt(stored_column(signed["webhook_id"]).encode()).decode() == SECRET
    assert stored_column(unsigned["webhook_id"]) == ""
    assert signed_test_call(admin_api, receiver, signed)["result"]["success"] is True

    migration.decrypt_existing(apps, None)
    assert stored_column(signed["webhook_id"]) == SECRET and stored_column(unsigned["webhook_id"]) == ""
