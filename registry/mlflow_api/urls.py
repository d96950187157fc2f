"""The MLflow registry API, mounted under /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/."""

from django.urls import path

from registry.mlflow_api import model_views, version_views

urlpatterns = [
    path("registered-models/create", model_views.create_registered_model),
    path("registered-models/get", model_views.get_registered_model),
    path("registered-models/update", model_views.update_registered_model),
    path("registered-models/rename", model_views.rename_registered_model),
    path("registered-models/delete", model_views.delete_registered_model),
    path("registered-models/search", model_views.search_registered_models),
    path("registered-models/get-latest-versions", model_views.get_latest_versions),
    path("registered-models/set-tag", model_views.set_registered_model_tag),
    path("registered-models/delete-tag", model_views.delete_registered_model_tag),
    path("registered-models/alias", model_views.registered_model_alias),
    path("model-versions/create", version_views.create_model_version),
    path("model-versions/get", version_views.get_model_version),
    path("model-versions/update", version_views.update_model_version),
    path("model-versions/delete", version_views.delete_model_version),
    path("model-versions/transition-stage", version_views.transition_model_version_stage),
    path("model-versions/get-download-uri", version_views.get_model_version_download_uri),
    path("model-versions/search", version_views.search_model_versions),
    path("model-versions/set-tag", version_views.set_model_version_tag),
    path("model-versions/delete-tag", version_views.delete_model_version_tag),
]
