"""The audit API, mounted under /api/v1/audit/."""

from django.urls import path

from audit.api import views

urlpatterns = [
    path("events", views.EventListView.as_view(), name="api-audit-events"),
    path("events/export", views.EventExportView.as_view(), name="api-audit-export"),
    path("events/<int:event_id>", views.EventDetailView.as_view(), name="api-audit-event"),
    path("verify", views.VerifyView.as_view(), name="api-audit-verify"),
    path("exports", views.ExportJobListView.as_view(), name="api-audit-exports"),
    path("exports/<int:job_id>", views.ExportJobDetailView.as_view(), name="api-audit-export-job"),
    path("exports/<int:job_id>/download", views.ExportJobDownloadView.as_view(), name="api-audit-export-download"),
    path("auditors", views.GlobalAuditorListView.as_view(), name="api-audit-auditors"),
    path("auditors/<str:username>", views.GlobalAuditorDetailView.as_view(), name="api-audit-auditor"),
]
