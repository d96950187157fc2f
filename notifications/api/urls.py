"""Warden's notification API, mounted under /api/v1/."""

from django.urls import path

from notifications.api import views
from notifications.models import WatchTarget

WS = "workspaces/<slug:slug>"

urlpatterns = [
    path(f"{WS}/webhooks/<str:webhook_id>/deliveries", views.DeliveryLogView.as_view(), name="api-webhook-deliveries"),
    path(f"{WS}/watches", views.WatchListView.as_view(), name="api-watches"),
    path(
        f"{WS}/watches/experiments/<str:key>",
        views.WatchDetailView.as_view(kind=WatchTarget.EXPERIMENT),
        name="api-watch-experiment",
    ),
    path(
        f"{WS}/watches/registered-models/<str:key>",
        views.WatchDetailView.as_view(kind=WatchTarget.REGISTERED_MODEL),
        name="api-watch-model",
    ),
]
