"""MLflow metric history endpoints."""

import json

from django.http import StreamingHttpResponse

from accounts.permissions import Level
from experiments import access
from experiments.errors import MlflowError, invalid
from experiments.mlflow_api.protocol import endpoint
from experiments.mlflow_api.serializers import metric_to_wire
from experiments.selectors_metrics import metric_history_bulk_interval, metric_history_page, metric_history_rows

MAX_HISTORY_PAGE = 25000
MAX_BULK_INTERVAL_RESULTS = 2500
MAX_BULK_INTERVAL_RUNS = 100


def _stream_history(rows):
    """The whole history as one JSON document, written row by row in constant memory."""
    yield '{"metrics":['
    first = True
    for row in rows.iterator(chunk_size=5000):
        chunk = json.dumps(metric_to_wire(*row[:6]), separators=(",", ":"))
        yield chunk if first else "," + chunk
        first = False
    yield "]}"


@endpoint(["GET"])
def get_history(request, ctx, params):
    run_id = params.str("run_id") or params.str("run_uuid")
    key = params.str("metric_key", required=True)
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    try:
        run = access.access_run(ctx, run_id, Level.READ)
    except MlflowError as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return {}  # MLflow answers an unknown run with an empty history
        raise
    max_results = params.int("max_results", minimum=1, maximum=MAX_HISTORY_PAGE)
    page_token = params.str("page_token")
    if max_results is None and not page_token:
        return StreamingHttpResponse(_stream_history(metric_history_rows(run, key)), content_type="application/json")
    page, token = metric_history_page(run, key, max_results=max_results or MAX_HISTORY_PAGE, page_token=page_token)
    out = {"metrics": [metric_to_wire(*row[:6]) for row in page]}
    if token:
        out["next_page_token"] = token
    return out


@endpoint(["GET"])
def get_history_bulk_interval(request, ctx, params):
    run_ids = params.list("run_ids")
    key = params.str("metric_key", required=True)
    if not run_ids:
        raise invalid("Missing value for required parameter 'run_ids'.")
    if len(run_ids) > MAX_BULK_INTERVAL_RUNS:
        raise invalid(f"GetMetricHistoryBulkInterval request must specify at most {MAX_BULK_INTERVAL_RUNS} run_ids.")
    max_results = params.int("max_results", default=MAX_BULK_INTERVAL_RESULTS, minimum=1, maximum=MAX_BULK_INTERVAL_RESULTS)
    start_step = params.int("start_step")
    end_step = params.int("end_step")
    if start_step is not None and end_step is not None and start_step > end_step:
        raise invalid("end_step must be greater than or equal to start_step.")
    runs = [access.access_run(ctx, run_id, Level.READ) for run_id in dict.fromkeys(run_ids)]
    rows = metric_history_bulk_interval(runs, key, start_step=start_step, end_step=end_step, max_results=max_results)
    return {"metrics": [metric_to_wire(*row[:6], run_id=run.run_uuid) for run, row in rows]}
