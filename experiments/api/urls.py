"""Warden's own API for governed deletion, mounted under /api/v1/."""

from django.urls import path

from experiments.api import views

WS = "workspaces/<slug:slug>"

urlpatterns = [
    path(f"{WS}/deleted/retention", views.RetentionView.as_view(), name="api-deleted-retention"),
    path(f"{WS}/deleted", views.DeletedObjectsView.as_view(), name="api-deleted"),
    path(f"{WS}/logged-models/<str:model_id>/restore", views.LoggedModelRestoreView.as_view(), name="api-logged-model-restore"),
    path(f"{WS}/experiments/<str:key>/protection", views.ExperimentProtectionView.as_view(), name="api-experiment-protection"),
]
