"""The auditor pages, mounted under /audit/."""

from django.urls import path

from audit import views

urlpatterns = [
    path("", views.event_log, name="audit-page-log"),
    path("events/<int:event_id>", views.event_detail, name="audit-page-event"),
    path("export", views.export_stream, name="audit-page-export"),
    path("jobs", views.export_jobs, name="audit-page-jobs"),
    path("jobs/<int:job_id>/download", views.export_job_download, name="audit-page-job-download"),
]
