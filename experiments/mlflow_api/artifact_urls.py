from django.urls import path  # noqa: F401

# /api/2.0/mlflow-artifacts/...: the artifact proxy.
urlpatterns = []
# /api/2.0/mlflow/artifacts/list: the tracking API's listing of a run's artifacts.
tracking_urlpatterns = []
