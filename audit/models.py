"""The append-only audit log: one row per governed action, chained per workspace.

Rows are inserted by ``audit.services.record`` only. A sealing step (``audit.sealing``) later
gives each row its per-workspace sequence number and hash; that is the one change a row ever
sees, and PostgreSQL's trigger (migration 0002) refuses every other UPDATE, any DELETE and
TRUNCATE. On SQLite the model itself refuses updates and deletes.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ActorKind(models.TextChoices):
    USER = "user"  # a person, in a browser session or with a password
    TOKEN = "token"  # a person acting through one of their API tokens
    SERVICE = "service"  # a service account (always through a token)
    SYSTEM = "system"  # Warden itself: jobs, retention, bootstrap
    ANONYMOUS = "anonymous"  # an unauthenticated caller (failed sign-ins, rejected tokens)


class Outcome(models.TextChoices):
    SUCCESS = "success"
    DENIED = "denied"
    ERROR = "error"


class AppendOnlyError(RuntimeError):
    """Audit rows are never changed or removed, except by sealing and the retention purge."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")


class AuditEvent(models.Model):
    time = models.DateTimeField(default=timezone.now, db_index=True)
    # Kept as plain ids: an event outlives the workspace, user and token it names.
    workspace = models.ForeignKey(
        "accounts.Workspace", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    workspace_slug = models.CharField(max_length=63, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    token_id = models.BigIntegerField(null=True, blank=True)
    auth_method = models.CharField(max_length=16, blank=True, default="")  # token, basic, session, oidc, password
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    client_version = models.CharField(max_length=64, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_name = models.CharField(max_length=500, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    error_code = models.CharField(max_length=64, blank=True, default="")
    # Written once by sealing: position in the workspace's chain and the chain hashes.
    seq = models.BigIntegerField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "time"], name="audit_ws_time"),
            models.Index(fields=["workspace", "seq"], name="audit_ws_seq"),
            models.Index(fields=["action", "time"], name="audit_action_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["actor", "time"], name="audit_actor_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "seq"], name="audit_unique_workspace_seq"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_sealing", False):
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def __str__(self):
        return f"{self.action} {self.target_type}:{self.target_id} ({self.outcome})"


class AuditChain(models.Model):
    """The head of one workspace's chain (workspace 0: events of no workspace, such as sign-ins).

    Sealers lock this row, so only sealing serialises; writers never touch it.
    """

    chain_key = models.BigIntegerField(unique=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True, default="")
    # Set by the retention purge: where the surviving chain now starts.
    anchor_seq = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, blank=True, default="")
