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


class AuditorGrant(models.Model):
    """The auditor capability: read and export the audit log of one workspace (or, with no
    workspace, of every workspace and of the events that belong to none).

    It gives no access to experiment data: the tracking API never consults it. Workspace admins
    grant it for their workspace, superusers grant the global one (and are global auditors
    implicitly). See ``audit.access`` for why admins themselves need a grant.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auditor_grants")
    workspace = models.ForeignKey("accounts.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="auditor_grants")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="auditor_unique_user_workspace"),
            models.UniqueConstraint(fields=["user"], condition=models.Q(workspace__isnull=True), name="auditor_unique_user_global"),
        ]


class AuditRetention(models.Model):
    """How long one workspace keeps its sealed audit events; no row (or no days) keeps them forever."""

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.CASCADE, related_name="audit_retention")
    keep_days = models.PositiveIntegerField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)


class ExportStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportFormat(models.TextChoices):
    CSV = "csv"
    JSONL = "jsonl"


class AuditExport(models.Model):
    """A background export of a range of the log to a private file, with its checksum and the
    verification of each chain it covers.

    ``scope`` is the workspaces the requester audited when asking (``null``: all of them), so a
    job never widens what its requester could read.
    """

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audit_exports")
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    scope = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    row_count = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True, default="")
    verification = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="audit_export_requester")]
