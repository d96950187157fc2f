from django.urls import path, re_path

from experiments.mlflow_api import artifact_views

# /api/2.0/mlflow-artifacts/...: the artifact proxy. The tails match any character (newlines
# included) so that every path reaches the canonicaliser and gets a JSON answer.
urlpatterns = [
    path("artifacts", artifact_views.list_artifacts),
    re_path(r"^artifacts/(?P<artifact_path>[\s\S]*)\Z", artifact_views.artifact),
    re_path(r"^mpu/(?P<action>create|complete|abort)/(?P<artifact_path>[\s\S]*)\Z", artifact_views.multipart_upload),
]
# /api/2.0/mlflow/artifacts/list: the tracking API's listing of a run's artifacts.
tracking_urlpatterns = [
    path("artifacts/list", artifact_views.list_run_artifacts),
]
