"""Routes of MLflow's tracking API (mounted under /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/)."""

from django.urls import path

from experiments.mlflow_api import experiment_views as exp
from experiments.mlflow_api import logged_model_views as lm
from experiments.mlflow_api import metric_views as met
from experiments.mlflow_api import run_views as run

urlpatterns = [
    path("experiments/create", exp.create),
    path("experiments/get", exp.get),
    path("experiments/get-by-name", exp.get_by_name),
    path("experiments/search", exp.search),
    path("experiments/update", exp.update),
    path("experiments/delete", exp.delete),
    path("experiments/restore", exp.restore),
    path("experiments/set-experiment-tag", exp.set_tag),
    path("experiments/delete-experiment-tag", exp.delete_tag),
    path("runs/create", run.create),
    path("runs/get", run.get),
    path("runs/update", run.update),
    path("runs/delete", run.delete),
    path("runs/restore", run.restore),
    path("runs/search", run.search),
    path("runs/set-tag", run.set_tag),
    path("runs/delete-tag", run.delete_tag),
    path("runs/log-parameter", run.log_parameter),
    path("runs/log-metric", run.log_metric),
    path("runs/log-batch", run.log_batch),
    path("runs/log-model", run.log_model),
    path("runs/log-inputs", run.log_inputs),
    path("runs/outputs", run.log_outputs),
    path("metrics/get-history", met.get_history),
    path("metrics/get-history-bulk-interval", met.get_history_bulk_interval),
    path("logged-models", lm.create),
    path("logged-models/search", lm.search),
    path("logged-models/<str:model_id>", lm.detail),
    path("logged-models/<str:model_id>/tags", lm.set_tags),
    path("logged-models/<str:model_id>/tags/<path:tag_key>", lm.delete_tag),
    path("logged-models/<str:model_id>/params", lm.log_params),
]
