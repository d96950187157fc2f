"""logged-models/search: MLflow 3's logged-model search, compiled into one scoped SQL query.

Only ACTIVE models. Metrics of a logged model are the metric points logged with its model_id:
a metric filter matches when any such point matches (as MLflow), and ``metrics.<key>`` in
order_by sorts on the newest point (by timestamp, then step); models without it sort last.
MLflow's ``datasets`` restriction needs the dataset of each metric point, which Warden does not
store, so a non-empty ``datasets`` is refused rather than ignored.
"""

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from experiments.errors import invalid
from experiments.models import LifecycleStage, LoggedModel, LoggedModelParam, LoggedModelStatus, LoggedModelTag, Metric
from experiments.search import page_tokens
from experiments.search.grammar import (
    ATTRIBUTE,
    LIST_OPS,
    METRIC,
    NULL_OPS,
    NUMBER,
    NUMERIC_OPS,
    PARAM,
    STRING,
    STRING_OPS,
    Field,
    Schema,
    parse_filter,
)
from experiments.search.options import check_max_results, requested_experiments, wire_ids
from experiments.search.page_tokens import SortKey
from experiments.search.sql import Predicate

_STRING = Field(STRING, STRING_OPS | LIST_OPS)
_TIME = Field(NUMBER, NUMERIC_OPS)

LOGGED_MODEL_SCHEMA = Schema(
    entity="logged models",
    attributes={
        "name": _STRING,
        "model_id": _STRING,
        "status": _STRING,
        "model_type": _STRING,
        "source_run_id": Field(STRING, STRING_OPS | LIST_OPS | NULL_OPS),
        "creation_timestamp": _TIME,
        "last_updated_timestamp": _TIME,
    },
    aliases={"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"},
    metric=Field(NUMBER, NUMERIC_OPS),
    param=Field(STRING, STRING_OPS | LIST_OPS | NULL_OPS),
    tag=Field(STRING, STRING_OPS | LIST_OPS | NULL_OPS),
)

COLUMNS = {
    "name": "name",
    "model_id": "model_id",
    "status": "status",
    "model_type": "model_type",
    "source_run_id": "source_run__run_uuid",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "experiment_id": "experiment_id",
}
ORDER_ALIASES = {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"}
NULLABLE = {"source_run_id"}
# MLflow's client shows statuses as READY/PENDING/FAILED; Warden stores the proto names.
STATUS_NAMES = {
    "READY": LoggedModelStatus.READY,
    "PENDING": LoggedModelStatus.PENDING,
    "FAILED": LoggedModelStatus.UPLOAD_FAILED,
}
ENTITY = "logged-models"


def search_logged_models(
    ctx, *, experiment_ids, filter_string: str = "", datasets=None, max_results: int = 100, order_by=None, page_token=None
) -> tuple[list[LoggedModel], str | None]:
    """One page of active logged models of the given, visible experiments, in one query."""
    max_results = check_max_results(max_results, default=100)
    if datasets:
        raise invalid(
            "Searching logged models by 'datasets' is not supported by Warden: metric points carry no dataset reference."
        )
    comparisons = parse_filter(filter_string, LOGGED_MODEL_SCHEMA)
    orders = parse_model_order_by(order_by)
    experiments = requested_experiments(ctx, experiment_ids)
    if experiments is None:
        return [], None
    queryset = LoggedModel.objects.select_related("experiment", "source_run").filter(
        lifecycle_stage=LifecycleStage.ACTIVE, experiment_id__in=experiments
    )
    for comparison in comparisons:
        queryset = queryset.filter(model_condition(comparison))
    keys = model_sort_keys(orders)
    context = {
        "workspace": ctx.workspace.pk,
        "experiments": sorted(str(e) for e in wire_ids(experiment_ids)),
        "filter": filter_string or "",
        "order_by": [list(o) for o in orders],
    }
    return page_tokens.paginate(
        queryset, keys, entity=ENTITY, context=context, max_results=max_results, page_token=page_token
    )


def parse_model_order_by(order_by) -> list[tuple[str, str, bool]]:
    """(kind, key, ascending) from MLflow 3's ``[{"field_name": ..., "ascending": bool}]``."""
    if not order_by:
        return []
    if not isinstance(order_by, list):
        raise invalid("Invalid order_by: expected a list of {field_name, ascending} objects.")
    result, seen = [], set()
    for item in order_by:
        if not isinstance(item, dict) or not isinstance(item.get("field_name"), str) or not item["field_name"]:
            raise invalid(f"Invalid order_by entry {item!r}: expected {{'field_name': str, 'ascending': bool}}.")
        ascending = item.get("ascending", True)
        if ascending is None:
            ascending = True
        if not isinstance(ascending, bool):
            raise invalid(f"Invalid order_by entry {item!r}: 'ascending' must be a boolean.")
        if item.get("dataset_name") or item.get("dataset_digest"):
            raise invalid("Ordering logged models by a metric of a dataset is not supported by Warden.")
        field_name = item["field_name"]
        if "." in field_name:
            prefix, key = field_name.split(".", 1)
            key = key.strip("`")
            if prefix != "metrics" or not key:
                raise invalid(f"Invalid order by field name: {field_name}. Only metrics.<key> and attributes are supported.")
            entry = (METRIC, key, ascending)
        else:
            key = ORDER_ALIASES.get(field_name, field_name)
            if key not in COLUMNS:
                raise invalid(f"Invalid order by field name: {field_name}. Valid attributes are {', '.join(sorted(COLUMNS))}.")
            entry = (ATTRIBUTE, key, ascending)
        if entry[:2] in seen:
            raise invalid(f"Invalid order_by: duplicate field {field_name}.")
        seen.add(entry[:2])
        result.append(entry)
    return result


def model_condition(comparison) -> Q:
    kind, key, op, value = comparison.kind, comparison.key, comparison.op, comparison.value
    if kind == ATTRIBUTE:
        column = COLUMNS[key]
        if key == "status":
            value = tuple(_status(v) for v in value) if isinstance(value, tuple) else _status(value)
        if op in NULL_OPS:
            return Q(**{f"{column}__isnull": op == "IS NULL"})
        return Q(Predicate(column, op, value))
    if kind == METRIC:
        points = Metric.objects.filter(model_id=OuterRef("model_id"), key=key)
        if op == "!=":
            matching = Q(Predicate("value", op, float(value))) | Q(is_nan=True)
        else:
            matching = Q(Predicate("value", op, float(value)), is_nan=False)
        return Q(Exists(points.filter(matching)))
    model = LoggedModelParam if kind == PARAM else LoggedModelTag
    rows = model.objects.filter(logged_model=OuterRef("pk"), key=key)
    if op == "IS NULL":
        return ~Q(Exists(rows))
    if op == "IS NOT NULL":
        return Q(Exists(rows))
    return Q(Exists(rows.filter(Predicate("value", op, value))))


def _status(value: str) -> str:
    return STATUS_NAMES.get(value.upper(), value) if isinstance(value, str) else value


def model_sort_keys(orders) -> list[SortKey]:
    """Nulls/missing last in both directions; then creation_timestamp DESC and model_id ASC."""
    keys: list[SortKey] = []
    for index, (kind, key, ascending) in enumerate(orders):
        name = f"_order{index}"
        if kind == METRIC:
            newest = Metric.objects.filter(model_id=OuterRef("model_id"), key=key).order_by("-timestamp", "-step", "-id")
            newest_is_nan = Subquery(newest.values("is_nan")[:1], output_field=BooleanField())
            newest_value = Subquery(newest.values("value")[:1], output_field=FloatField())
            rank = Case(
                When(Exact(newest_is_nan, False), then=Value(0)),
                When(Exact(newest_is_nan, True), then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
            value = Case(When(Exact(newest_is_nan, False), then=newest_value), default=Value(0.0), output_field=FloatField())
            keys.append(SortKey(f"{name}_rank", rank, True))
            keys.append(SortKey(f"{name}_value", value, ascending))
            continue
        column = COLUMNS[key]
        if key == "experiment_id":  # the wire id: the Default experiment is 0
            wire_id = Case(When(experiment__is_default=True, then=Value(0)), default=F("experiment_id"), output_field=IntegerField())
            keys.append(SortKey(f"{name}_value", wire_id, ascending))
        elif key in NULLABLE:
            missing = Case(When(**{f"{column}__isnull": True}, then=Value(1)), default=Value(0), output_field=IntegerField())
            keys.append(SortKey(f"{name}_rank", missing))
            keys.append(SortKey(f"{name}_value", Coalesce(F(column), Value(""), output_field=TextField()), ascending))
        else:
            keys.append(SortKey(column, None, ascending))
    named = {key for _, key, _ in orders}
    if "creation_timestamp" not in named:
        keys.append(SortKey("creation_timestamp", None, False))
    if "model_id" not in named:
        keys.append(SortKey("model_id", None, True))
    return keys
