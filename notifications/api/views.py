"""Warden's notification API: a webhook's delivery log (admins) and a user's watches.

A watch is allowed on an experiment or registered model the caller can READ, fetched by the
same access helpers as the MLflow API (invisible = 404 like missing). What a watch sends is
re-checked when each e-mail goes out (``notifications.email``).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.api.views import WorkspaceView
from accounts.models import Role
from accounts.permissions import Level
from experiments.access import access_experiment
from notifications import watches
from notifications.api.serializers import DeliverySerializer, WatchSerializer
from notifications.models import Delivery, Watch, WatchTarget
from notifications.webhooks.services import access_webhook
from registry.access import access_registered_model

MAX_LOG = 200


class DeliveryLogView(WorkspaceView):
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    @extend_schema(responses=DeliverySerializer(many=True))
    def get(self, request, slug, webhook_id):
        """The newest deliveries of a webhook (``?limit=``, at most 200), each with its attempts."""
        hook = access_webhook(self.ctx, webhook_id, write=False)
        try:
            limit = max(1, min(int(request.query_params.get("limit", 50)), MAX_LOG))
        except ValueError:
            limit = 50
        rows = Delivery.objects.filter(webhook=hook).prefetch_related("attempt_log").order_by("-created_at")[:limit]
        return Response(DeliverySerializer(rows, many=True).data)


class WatchListView(WorkspaceView):
    read_role = Role.VIEWER

    @extend_schema(responses=WatchSerializer(many=True))
    def get(self, request, slug):
        """What the caller watches in this workspace."""
        rows = Watch.objects.filter(user=request.user, workspace=self.ctx.workspace).order_by("created_at")
        return Response(WatchSerializer(rows, many=True).data)


class WatchDetailView(WorkspaceView):
    """PUT watches an experiment (by id) or a registered model (by name); DELETE stops."""

    read_role = Role.VIEWER
    write_role = Role.VIEWER
    kind = ""

    def target(self, key):
        if self.kind == WatchTarget.EXPERIMENT:
            return access_experiment(self.ctx, key, Level.READ)
        return access_registered_model(self.ctx, key, Level.READ)

    @extend_schema(request=None, responses={201: WatchSerializer, 200: WatchSerializer})
    def put(self, request, slug, key):
        watch, created = watches.watch_set(actor=request.user, workspace=self.ctx.workspace, kind=self.kind, obj=self.target(key))
        return Response(WatchSerializer(watch).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, key):
        if not watches.watch_remove(actor=request.user, kind=self.kind, obj=self.target(key)):
            raise NotFound("You do not watch this object.")
        return Response(status=status.HTTP_204_NO_CONTENT)
