"""Tracking data: experiments, runs and what is logged to them, datasets and logged models.

Ids on the wire follow MLflow: experiments are decimal strings ("0" is the current workspace's
Default experiment), runs are 32 hex characters, logged models are ``m-`` + 32 hex characters.
Rows reference each other by integer keys so that the metric tables stay narrow.
"""

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class LifecycleStage(models.TextChoices):
    ACTIVE = "active"
    DELETED = "deleted"


class Experiment(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=500)
    is_default = models.BooleanField(default=False)
    restricted = models.BooleanField(default=False)
    protected = models.BooleanField(
        default=False, help_text="Cannot be deleted; nothing in it (deleted runs, logged models) is purged."
    )
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    creation_time = models.BigIntegerField()
    last_update_time = models.BigIntegerField()
    deleted_time = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="experiment_unique_workspace_name"),
            models.UniqueConstraint(
                fields=["workspace"], condition=models.Q(is_default=True), name="experiment_one_default_per_workspace"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "last_update_time"], name="experiment_ws_updated")]
        # The grant ladder (accounts.permissions.Level), held per object through the grant tables below.
        permissions = [
            ("read_experiment", "Can see the experiment, its runs, metrics and artifacts"),
            ("use_experiment", "Can read the experiment and load its models"),
            ("edit_experiment", "Can log runs, metrics and artifacts to the experiment"),
            ("manage_experiment", "Can delete, restore, rename and share the experiment"),
        ]

    @property
    def wire_id(self) -> str:
        return "0" if self.is_default else str(self.pk)

    @property
    def artifact_location(self) -> str:
        return f"mlflow-artifacts:/{self.wire_id}"


class ExperimentTag(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["experiment", "key"], name="experiment_tag_unique_key")]


class RunStatus(models.TextChoices):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


class Run(models.Model):
    run_uuid = models.CharField(max_length=32, unique=True)
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=250, blank=True, default="")
    user_id = models.CharField(max_length=256, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    start_time = models.BigIntegerField()
    end_time = models.BigIntegerField(null=True, blank=True)
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE)
    deleted_time = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["experiment", "start_time"], name="run_exp_start"),
            models.Index(fields=["experiment", "lifecycle_stage"], name="run_exp_stage"),
        ]

    def artifact_uri(self, experiment_wire_id: str) -> str:
        return f"mlflow-artifacts:/{experiment_wire_id}/{self.run_uuid}/artifacts"


class Param(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="params", db_index=False)
    key = models.CharField(max_length=250)
    value = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="param_unique_run_key")]


class RunTag(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tags", db_index=False)
    key = models.CharField(max_length=250)
    value = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="run_tag_unique_run_key")]


class Metric(models.Model):
    """One logged point. Written only by the bulk ingest path, never saved row by row.

    Indexed once, by (run, key, step, timestamp): every extra b-tree slows ingest. Foreign keys
    whose column leads a unique constraint or that index carry no index of their own.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=250)
    value = models.FloatField()
    is_nan = models.BooleanField(default=False)
    timestamp = models.BigIntegerField()
    step = models.BigIntegerField(default=0)
    model_id = models.CharField(max_length=34, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["run", "key", "step", "timestamp"], name="metric_history"),
            # Metrics of logged models; partial, so points logged on runs alone pay nothing for it.
            models.Index(
                fields=["model_id", "key", "timestamp"], condition=models.Q(model_id__isnull=False), name="metric_model"
            ),
        ]


class LatestMetric(models.Model):
    """The newest point of each (run, key): what runs/search filters and sorts on."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="latest_metrics", db_index=False)
    key = models.CharField(max_length=250)
    value = models.FloatField()
    is_nan = models.BooleanField(default=False)
    timestamp = models.BigIntegerField()
    step = models.BigIntegerField(default=0)
    model_id = models.CharField(max_length=34, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="latest_metric_unique_run_key")]
        indexes = [
            # runs/search filters and sorts on metrics.<key>: (key, value, run) lets it read the index only.
            models.Index(fields=["key", "value", "run"], name="latest_metric_key_value_run"),
        ]


class Dataset(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=500)
    digest = models.CharField(max_length=36)
    source_type = models.CharField(max_length=36)
    source = models.TextField()
    schema = models.TextField(blank=True, default="")
    profile = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "name", "digest"], name="dataset_unique_name_digest")
        ]


class RunInput(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="inputs")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    tags = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "dataset"], name="run_input_unique")]


class LoggedModelStatus(models.TextChoices):
    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"


class LoggedModel(models.Model):
    model_id = models.CharField(max_length=34, unique=True)
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="logged_models")
    name = models.CharField(max_length=500)
    source_run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model_type = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=32, choices=LoggedModelStatus.choices, default=LoggedModelStatus.PENDING)
    status_message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    creation_timestamp = models.BigIntegerField()
    last_updated_timestamp = models.BigIntegerField()
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE)
    deleted_time = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["experiment", "creation_timestamp"], name="logged_model_exp_created")]

    def artifact_location(self, experiment_wire_id: str) -> str:
        return f"mlflow-artifacts:/{experiment_wire_id}/models/{self.model_id}/artifacts"


class LoggedModelTag(models.Model):
    logged_model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["logged_model", "key"], name="logged_model_tag_unique_key")]


class LoggedModelParam(models.Model):
    logged_model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="params")
    key = models.CharField(max_length=250)
    value = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["logged_model", "key"], name="logged_model_param_unique_key")]


class RunModelLink(models.Model):
    """A logged model used by a run (input) or produced by it (output)."""

    class Direction(models.TextChoices):
        INPUT = "input"
        OUTPUT = "output"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="model_links")
    logged_model = models.ForeignKey(LoggedModel, on_delete=models.CASCADE, related_name="run_links")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    step = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "logged_model", "direction"], name="run_model_link_unique")
        ]


class PurgeClaim(models.Model):
    """A deleted object the purge has committed to remove: written (under the object's row lock)
    before any of its files go, deleted with its row. While it exists the object cannot be
    restored, and a purge that crashed finds it and finishes the job. ``progress`` counts what
    was removed so far, for the audit event written at the end."""

    class Kind(models.TextChoices):
        EXPERIMENT = "experiment"
        RUN = "run"
        LOGGED_MODEL = "logged_model"
        REGISTERED_MODEL = "registered_model"
        MODEL_VERSION = "model_version"

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.BigIntegerField()
    claimed_at = models.DateTimeField(auto_now_add=True)
    progress = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="purge_claim_unique_object")]
        indexes = [models.Index(fields=["workspace", "kind"], name="purge_claim_ws_kind")]


class ExperimentUserObjectPermission(UserObjectPermissionBase):
    """A grant on one experiment to one user (django-guardian, direct foreign key).

    The direct key makes the grant go with its experiment in the same statement, so no orphan
    can be inherited by a later object. One row per (user, experiment): its permission is the level.
    """

    content_object = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="user_grants")

    class Meta(UserObjectPermissionBase.Meta):
        unique_together = ()
        constraints = [models.UniqueConstraint(fields=["user", "content_object"], name="experiment_user_grant_unique")]


class ExperimentGroupObjectPermission(GroupObjectPermissionBase):
    """A grant on one experiment to a team (its auth Group); same rules as the user grants."""

    content_object = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="team_grants")

    class Meta(GroupObjectPermissionBase.Meta):
        unique_together = ()
        constraints = [models.UniqueConstraint(fields=["group", "content_object"], name="experiment_team_grant_unique")]
