from django.contrib import admin
from django.urls import include, path

from experiments.mlflow_api import artifact_urls, server_views

MLFLOW_API = [
    path("", include("experiments.mlflow_api.urls")),
    path("", include("registry.mlflow_api.urls")),
    path("", include(artifact_urls.tracking_urlpatterns)),
    path("", include("notifications.webhooks.mlflow_api")),
]
MLFLOW_ARTIFACTS = [path("", include("experiments.mlflow_api.artifact_urls"))]

urlpatterns = [
    path("health", server_views.health, name="health"),
    path("version", server_views.version, name="version"),
    path("api/3.0/mlflow/server-info", server_views.server_info, name="server-info"),
    path("ajax-api/3.0/mlflow/server-info", server_views.server_info),
    path("api/2.0/mlflow/", include(MLFLOW_API)),
    path("ajax-api/2.0/mlflow/", include(MLFLOW_API)),
    path("api/2.0/mlflow-artifacts/", include(MLFLOW_ARTIFACTS)),
    path("ajax-api/2.0/mlflow-artifacts/", include(MLFLOW_ARTIFACTS)),
    path("api/v1/registry/", include("registry.api.urls")),
    path("api/v1/audit/", include("audit.api.urls")),
    path("api/v1/", include("audit.api.workspace_urls")),
    path("api/v1/", include("experiments.api.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/", include("notifications.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("accounts.pages.urls")),
]
