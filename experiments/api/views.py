"""Warden's own API for governed deletion: retention, protection of experiments, deleted objects.

Under ``/api/v1/workspaces/<slug>/``, in DRF's shapes (``accounts.api.views.WardenView``):
``deleted/retention`` (members read the period deleted objects stay restorable, admins set it),
``deleted`` (admins list what is deleted), ``experiments/<id>/protection`` (MANAGE protects) and
``logged-models/<id>/restore`` (EDIT, as deleting it).
"""

from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.api.views import WorkspaceView
from accounts.models import Role
from accounts.permissions import Level
from experiments import retention, selectors, services
from experiments.access import access_deleted_logged_model, access_experiment


class RetentionInput(serializers.Serializer):
    retention_days = serializers.IntegerField(min_value=1, max_value=retention.MAX_RETENTION_DAYS, allow_null=True)


class DeletedListInput(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=10_000, default=1000)


class ProtectionInput(serializers.Serializer):
    protected = serializers.BooleanField()


def retention_json(workspace) -> dict:
    return {
        "workspace": workspace.slug,
        "retention_days": retention.retention_days(workspace),
        "workspace_retention_days": workspace.retention_days,
        "default_retention_days": settings.WARDEN_DEFAULT_RETENTION_DAYS,
    }


class RetentionView(WorkspaceView):
    """GET (members): the period in force; PUT (admins): set it, or null for the server default."""

    def get(self, request, slug):
        return Response(retention_json(self.ctx.workspace))

    def put(self, request, slug):
        data = self.valid(RetentionInput, request.data)
        retention.retention_set(actor=request.user, workspace=self.ctx.workspace, days=data["retention_days"])
        return Response(retention_json(self.ctx.workspace))


class DeletedObjectsView(WorkspaceView):
    """GET (admins): deleted objects still restorable, with when the purge may take them."""

    read_role = Role.ADMIN

    def get(self, request, slug):
        kinds = request.query_params.getlist("kind") or list(selectors.DELETED_KINDS)
        unknown = sorted(set(kinds) - set(selectors.DELETED_KINDS))
        if unknown:
            raise ValidationError({"kind": [f"Unknown kind {unknown[0]!r}; use one of {list(selectors.DELETED_KINDS)}."]})
        limit = self.valid(DeletedListInput, request.query_params)["limit"]
        items = selectors.deleted_objects(self.ctx.workspace, kinds=kinds, limit=limit)
        return Response({"retention_days": retention.retention_days(self.ctx.workspace), "deleted": items})


class ExperimentProtectionView(WorkspaceView):
    """GET (READ on the experiment) shows its protection; PUT (MANAGE) sets it."""

    write_role = Role.VIEWER  # MANAGE on the experiment is checked per request

    def get(self, request, slug, key):
        experiment = access_experiment(self.ctx, key, Level.READ)
        return Response({"experiment_id": experiment.wire_id, "protected": experiment.protected})

    def put(self, request, slug, key):
        experiment = access_experiment(self.ctx, key, Level.MANAGE)
        data = self.valid(ProtectionInput, request.data)
        experiment = retention.experiment_protection_set(actor=request.user, experiment=experiment, protected=data["protected"])
        return Response({"experiment_id": experiment.wire_id, "protected": experiment.protected})


class LoggedModelRestoreView(WorkspaceView):
    """POST (EDIT on its experiment, as deleting it): restore a deleted logged model."""

    write_role = Role.VIEWER  # EDIT on the experiment is checked per request

    def post(self, request, slug, model_id):
        model = access_deleted_logged_model(self.ctx, model_id, Level.EDIT)
        model = services.logged_model_restore(actor=request.user, model=model)
        return Response({"model_id": model.model_id, "lifecycle_stage": model.lifecycle_stage})
