"""A workspace's auditors and audit retention, mounted under /api/v1/ next to the workspace API."""

from django.urls import path

from audit.api import views

WS = "workspaces/<slug:slug>"

urlpatterns = [
    path(f"{WS}/auditors", views.WorkspaceAuditorListView.as_view(), name="api-workspace-auditors"),
    path(f"{WS}/auditors/<str:username>", views.WorkspaceAuditorDetailView.as_view(), name="api-workspace-auditor"),
    path(f"{WS}/audit-retention", views.RetentionView.as_view(), name="api-workspace-audit-retention"),
]
