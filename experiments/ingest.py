"""The ingest hot path: log-batch and log-metric.

Per DESIGN §8 this path does no per-row ORM work. On PostgreSQL a batch of metrics is ONE
statement: the points go in through ``unnest`` of arrays inside a data-modifying CTE, and the
latest value of each key is upserted by ``INSERT ... ON CONFLICT ... DO UPDATE ... WHERE`` keeping
the greatest (step, timestamp, value), as MLflow orders them. Elsewhere (SQLite) the same two
writes run as ``executemany`` + upsert inside one transaction.
"""

import math
from typing import NamedTuple

from django.db import connection, transaction

from experiments.errors import invalid
from experiments.models import LatestMetric, Metric, Param, Run, RunTag
from experiments.validation import MAX_KEY_LENGTH, _VALID_KEY, validate_key

RUN_NAME_TAG = "mlflow.runName"


class MetricPoint(NamedTuple):
    key: str
    value: float
    is_nan: bool
    timestamp: int
    step: int
    model_id: str | None


def _number(raw, field, key):
    if isinstance(raw, bool) or raw is None:
        raise invalid(f"Invalid value {raw!r} for metric '{key}' field '{field}'.")
    if isinstance(raw, (int, float)):
        return raw
    try:
        return float(raw) if field == "value" else int(raw)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value {raw!r} for metric '{key}' field '{field}': must be a number.")


def parse_metric(raw: dict) -> MetricPoint:
    """Validate one metric of a request body; cheap checks first, this runs 1000 times a batch."""
    if not isinstance(raw, dict):
        raise invalid("Every metric must be an object with key, value and timestamp.")
    key = raw.get("key")
    if not (isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH and _VALID_KEY.match(key)) or key.startswith("/"):
        validate_key(key, "metric")
    if ".." in key:
        validate_key(key, "metric")
    value = raw.get("value")
    if value is None:
        raise invalid(f"Missing value for required parameter 'value' of metric '{key}'.")
    value = float(_number(value, "value", key))
    timestamp = raw.get("timestamp")
    if timestamp is None:
        raise invalid(f"Missing value for required parameter 'timestamp' of metric '{key}'.")
    timestamp = int(_number(timestamp, "timestamp", key))
    step = raw.get("step")
    step = 0 if step is None else int(_number(step, "step", key))
    model_id = raw.get("model_id") or None
    if model_id is not None and not isinstance(model_id, str):
        raise invalid(f"Invalid model_id for metric '{key}'.")
    if math.isnan(value):
        return MetricPoint(key, 0.0, True, timestamp, step, model_id)
    return MetricPoint(key, value, False, timestamp, step, model_id)


def _latest_per_key(points: list[MetricPoint]) -> list[MetricPoint]:
    latest: dict[str, MetricPoint] = {}
    for point in points:
        current = latest.get(point.key)
        if current is None or (point.step, point.timestamp, point.value) > (current.step, current.timestamp, current.value):
            latest[point.key] = point
    return list(latest.values())


def _latest_upsert_sql(latest: list[MetricPoint]) -> str:
    table = LatestMetric._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(latest))
    return (
        f"INSERT INTO {table} AS cur (run_id, key, value, is_nan, timestamp, step, model_id) VALUES {rows} "
        "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, "
        "timestamp = excluded.timestamp, step = excluded.step, model_id = excluded.model_id "
        "WHERE (excluded.step, excluded.timestamp, excluded.value) > (cur.step, cur.timestamp, cur.value)"
    )


def _write_metrics(cursor, run_pk: int, points: list[MetricPoint]):
    """History rows and latest values in one atomic statement on PostgreSQL, two elsewhere."""
    table = Metric._meta.db_table
    latest = _latest_per_key(points)
    latest_params = [field for p in latest for field in (run_pk, *p)]
    if connection.vendor == "postgresql":
        # A data-modifying CTE runs exactly once and shares the statement's atomicity.
        cursor.execute(
            f"WITH history AS (INSERT INTO {table} (run_id, key, value, is_nan, timestamp, step, model_id) "
            "SELECT %s, k, v, n, t, s, m FROM unnest(%s::varchar[], %s::float8[], %s::bool[], %s::bigint[], "
            "%s::bigint[], %s::varchar[]) AS u(k, v, n, t, s, m)) " + _latest_upsert_sql(latest),
            [
                run_pk,
                [p.key for p in points],
                [p.value for p in points],
                [p.is_nan for p in points],
                [p.timestamp for p in points],
                [p.step for p in points],
                [p.model_id for p in points],
                *latest_params,
            ],
        )
        return
    with transaction.atomic():
        cursor.executemany(
            f"INSERT INTO {table} (run_id, key, value, is_nan, timestamp, step, model_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(run_pk, *p) for p in points],
        )
        cursor.execute(_latest_upsert_sql(latest), latest_params)


def _dedupe_params(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for key, value in params:
        if key in seen and seen[key] != value:
            raise invalid(f"Duplicate parameter keys have been submitted with different values: '{key}'.")
        seen[key] = value
    return list(seen.items())


def _check_param_changes(run: Run, params: list[tuple[str, str]]):
    existing = dict(Param.objects.filter(run=run, key__in=[k for k, _ in params]).values_list("key", "value"))
    for key, value in params:
        if key in existing and existing[key] != value:
            raise invalid(
                f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                f"value='{existing[key]}' for run ID='{run.run_uuid}'. Attempted logging new value '{value}'."
            )


def write_batch(*, run: Run, metrics: list[MetricPoint], params: list[tuple[str, str]], tags: list[tuple[str, str]]):
    """Write validated metrics, params and tags of one run atomically."""
    params = _dedupe_params(params)
    tags = list(dict(tags).items())
    if metrics and not params and not tags:  # the common log-metrics batch: one statement, no transaction block
        with connection.cursor() as cursor:
            _write_metrics(cursor, run.pk, metrics)
        return
    with transaction.atomic():
        if params:
            _check_param_changes(run, params)
            Param.objects.bulk_create([Param(run=run, key=k, value=v) for k, v in params], ignore_conflicts=True)
        if tags:
            RunTag.objects.bulk_create(
                [RunTag(run=run, key=k, value=v) for k, v in tags],
                update_conflicts=True,
                unique_fields=["run", "key"],
                update_fields=["value"],
            )
            run_name = dict(tags).get(RUN_NAME_TAG)
            if run_name is not None and run_name != run.name:
                Run.objects.filter(pk=run.pk).update(name=run_name)
                run.name = run_name
        if metrics:
            with connection.cursor() as cursor:
                _write_metrics(cursor, run.pk, metrics)
