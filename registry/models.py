"""The model registry: registered models, their versions, tags, aliases and promotion requests.

Names are unique per workspace among live models: a deleted model keeps its row (restorable until
the purge) and frees its name, which a new model may take. Version numbers are per registered model, start at 1 and are
never reused: a deleted version keeps its row (``deleted``) so the next number is still max+1,
as in MLflow. Timestamps are epoch milliseconds, as on the wire.
"""

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

DEFAULT_PROTECTED_ALIASES = ("champion",)


def default_protected_aliases() -> list:
    return list(DEFAULT_PROTECTED_ALIASES)


class Stage(models.TextChoices):
    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"


class VersionStatus(models.TextChoices):
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


class RegisteredModel(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="registered_models")
    name = models.CharField(max_length=256)
    description = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    restricted = models.BooleanField(default=False)
    protected = models.BooleanField(
        default=False, help_text="Production transitions and protected aliases need a second approver; no deletion."
    )
    protected_aliases = models.JSONField(default=default_protected_aliases)
    creation_timestamp = models.BigIntegerField()
    last_updated_timestamp = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    deleted_time = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], condition=models.Q(deleted=False), name="registered_model_unique_live_name"
            )
        ]
        indexes = [models.Index(fields=["workspace", "last_updated_timestamp"], name="registered_model_ws_updated")]
        # The grant ladder (accounts.permissions.Level), held per object through the grant tables below.
        permissions = [
            ("read_registeredmodel", "Can see the registered model and its versions"),
            ("use_registeredmodel", "Can read the registered model and load its versions"),
            ("edit_registeredmodel", "Can create versions and set tags, aliases and stages"),
            ("manage_registeredmodel", "Can delete, rename, share, protect and promote the model"),
        ]

    def __str__(self):
        return self.name

    def is_protected_alias(self, alias: str) -> bool:
        return self.protected and alias.lower() in {a.lower() for a in self.protected_aliases or []}


class RegisteredModelTag(models.Model):
    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registered_model", "key"], name="registered_model_tag_unique_key")
        ]


class ModelVersion(models.Model):
    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    source = models.TextField(help_text="The source as the client sent it, after validation.")
    storage_location = models.TextField(help_text="Derived by the server; what get-download-uri answers.")
    run = models.ForeignKey("experiments.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    logged_model = models.ForeignKey(
        "experiments.LoggedModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run_link = models.TextField(blank=True, default="")
    status = models.CharField(max_length=32, choices=VersionStatus.choices, default=VersionStatus.READY)
    status_message = models.TextField(blank=True, default="")
    current_stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NONE)
    description = models.TextField(blank=True, default="")
    user_id = models.CharField(max_length=256, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    creation_timestamp = models.BigIntegerField()
    last_updated_timestamp = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    deleted_time = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registered_model", "version"], name="model_version_unique_number")
        ]
        indexes = [
            models.Index(fields=["registered_model", "current_stage", "version"], name="model_version_stage"),
            models.Index(fields=["last_updated_timestamp"], name="model_version_updated"),
        ]

    def __str__(self):
        return f"{self.registered_model_id}/{self.version}"


class ModelVersionTag(models.Model):
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_version", "key"], name="model_version_tag_unique_key")]


class RegisteredModelAlias(models.Model):
    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=255)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registered_model", "alias"], name="registered_model_alias_unique")
        ]


class TransitionRequest(models.Model):
    """A governed promotion on a protected model: waits for a second person with MANAGE."""

    class Kind(models.TextChoices):
        STAGE = "stage"
        ALIAS = "alias"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="transition_requests")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="transition_requests")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True, default="")
    archive_existing_versions = models.BooleanField(default=False)
    alias = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    comment = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=256, blank=True, default="")
    creation_timestamp = models.BigIntegerField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(max_length=256, blank=True, default="")
    decision_comment = models.TextField(blank=True, default="")
    decided_timestamp = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "kind", "to_stage", "alias"],
                condition=models.Q(status="pending"),
                name="transition_request_one_pending",
            )
        ]
        indexes = [models.Index(fields=["registered_model", "status"], name="transition_req_status")]

    @property
    def target(self) -> str:
        return self.to_stage if self.kind == self.Kind.STAGE else f"@{self.alias}"


class RegisteredModelUserObjectPermission(UserObjectPermissionBase):
    """A grant on one registered model to one user (django-guardian, direct foreign key).

    Deleted with its model in the same statement: a model re-created under the same name starts
    with no grants. One row per (user, model): its permission is the level.
    """

    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="user_grants")

    class Meta(UserObjectPermissionBase.Meta):
        unique_together = ()
        constraints = [
            models.UniqueConstraint(fields=["user", "content_object"], name="registered_model_user_grant_unique")
        ]


class RegisteredModelGroupObjectPermission(GroupObjectPermissionBase):
    """A grant on one registered model to a team (its auth Group); same rules as the user grants."""

    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="team_grants")

    class Meta(GroupObjectPermissionBase.Meta):
        unique_together = ()
        constraints = [
            models.UniqueConstraint(fields=["group", "content_object"], name="registered_model_team_grant_unique")
        ]
