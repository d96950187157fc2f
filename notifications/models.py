"""Outbox events, webhooks, watches and the deliveries that carry events to them.

An ``OutboxEvent`` is written in the transaction of the change it describes. Fan-out turns it
into ``Delivery`` rows, one per subscribed webhook or watching user; a delivery is sent at least
once (its id is the stable ``X-MLflow-Delivery-Id``) and each try leaves a ``DeliveryAttempt``
(status code, error class, duration; never the response body).
"""

import uuid

from django.conf import settings
from django.db import models

from notifications import encryption


class OutboxEvent(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=64, help_text='"entity.action", e.g. "model_version.created"')
    payload = models.JSONField(default=dict, help_text="The event's data, as webhooks receive it")
    # What watchers watch: an experiment or a registered model of the workspace.
    target_type = models.CharField(max_length=32, blank=True, default="")
    target_id = models.BigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(dispatched_at__isnull=True), name="outbox_undispatched"),
        ]

    @property
    def entity(self) -> str:
        return self.event_type.partition(".")[0]

    @property
    def action(self) -> str:
        return self.event_type.partition(".")[2]


def new_webhook_id() -> str:
    return str(uuid.uuid4())


class WebhookStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class Webhook(models.Model):
    """MLflow's webhook, in one workspace. The secret signs deliveries, is never shown, and is
    stored encrypted (``notifications.encryption``): set it with ``set_secret``, read it with
    ``secret_plaintext`` only to sign."""

    webhook_id = models.CharField(max_length=36, unique=True, default=new_webhook_id)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=63)
    description = models.TextField(blank=True, default="")
    url = models.TextField()
    secret_encrypted = models.TextField(blank=True, default="", help_text="Fernet token of the signing secret; empty: unsigned")
    events = models.JSONField(default=list, help_text='["model_version.created", ...]')
    status = models.CharField(max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    creation_timestamp = models.BigIntegerField()
    last_updated_timestamp = models.BigIntegerField()
    deleted_timestamp = models.BigIntegerField(null=True, blank=True, help_text="Deleted webhooks keep their delivery log")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], condition=models.Q(deleted_timestamp__isnull=True), name="webhook_unique_live_name"
            )
        ]
        indexes = [models.Index(fields=["workspace", "creation_timestamp"], name="webhook_ws_created")]

    def __str__(self):
        return self.name

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    def set_secret(self, plaintext: str) -> None:
        """An empty secret removes signing."""
        self.secret_encrypted = encryption.encrypt(plaintext) if plaintext else ""

    def secret_plaintext(self) -> str:
        """Raises ``encryption.SecretUnreadable`` when no configured key decrypts it."""
        return encryption.decrypt(self.secret_encrypted) if self.secret_encrypted else ""


class WatchTarget(models.TextChoices):
    EXPERIMENT = "experiment"
    REGISTERED_MODEL = "registered_model"


class Watch(models.Model):
    """A user asks for e-mail about one experiment or registered model."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    target_type = models.CharField(max_length=32, choices=WatchTarget.choices)
    target_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "target_type", "target_id"], name="watch_unique_target")
        ]
        indexes = [models.Index(fields=["workspace", "target_type", "target_id"], name="watch_target")]


class Channel(models.TextChoices):
    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up: a permanent refusal, or out of attempts
    SKIPPED = "skipped"  # nothing to send any more: webhook deleted or disabled, recipient lost access


class Delivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, help_text="The stable delivery id receivers dedupe on")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(OutboxEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=64)
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(blank=True, default="", help_text="Webhooks: the exact JSON sent on every attempt")
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True, help_text="Claimed by a worker until then")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "webhook"], condition=models.Q(webhook__isnull=False), name="delivery_once_per_webhook"
            ),
            models.UniqueConstraint(
                fields=["event", "recipient"], condition=models.Q(recipient__isnull=False), name="delivery_once_per_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="delivery_due"),
            models.Index(fields=["webhook", "created_at"], name="delivery_webhook_log"),
        ]


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=64, blank=True, default="", help_text="Error class, e.g. ConnectionError")
    succeeded = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="delivery_attempt_unique_number")]
        ordering = ["delivery", "number"]
