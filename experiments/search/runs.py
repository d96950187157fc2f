"""runs/search: MLflow's filter and order_by over runs, compiled into one scoped SQL query.

Filters on metrics (latest values), params, tags and datasets become EXISTS subqueries; sorts
on them become LEFT JOINs on (run, key), which the unique constraints keep to one row per run.
The permission scope is a subquery of visible experiments inside the same statement.
"""

from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from experiments.models import LatestMetric, Param, Run, RunInput, RunTag
from experiments.search import page_tokens
from experiments.search.grammar import (
    ATTRIBUTE,
    DATASET,
    LIST_OPS,
    METRIC,
    NULL_OPS,
    NUMBER,
    NUMERIC_OPS,
    PARAM,
    STRING,
    STRING_OPS,
    TAG,
    Field,
    Schema,
    parse_filter,
    parse_order_by,
)
from experiments.search.options import (
    check_max_results,
    lifecycle_q,
    requested_experiments,
    view_type_name,
    wire_ids,
)
from experiments.search.page_tokens import SortKey
from experiments.search.sql import InputTagPredicate, Predicate

DATASET_CONTEXT_TAG = "mlflow.data.context"

_STRING = Field(STRING, STRING_OPS | LIST_OPS)
ATTRIBUTE_ALIASES = {
    "created": "start_time",
    "Created": "start_time",
    "run name": "run_name",
    "Run name": "run_name",
    "Run Name": "run_name",
}
_KEYED_STRING = Field(STRING, STRING_OPS | LIST_OPS | NULL_OPS)

RUN_SCHEMA = Schema(
    entity="runs",
    attributes={
        "run_id": _STRING,
        "run_name": _STRING,
        "status": _STRING,
        "user_id": _STRING,
        "start_time": Field(NUMBER, NUMERIC_OPS),
        "end_time": Field(NUMBER, NUMERIC_OPS | NULL_OPS),
    },
    aliases=ATTRIBUTE_ALIASES,
    metric=Field(NUMBER, NUMERIC_OPS),
    param=_KEYED_STRING,
    tag=_KEYED_STRING,
    dataset={"name": _STRING, "digest": _STRING, "context": _STRING},
    unsupported={"artifact_uri": "filtering on 'artifact_uri' is not supported: Warden derives it from the run id"},
)

# Wire attribute -> Run column. run_name is Run.name, which services keep equal to the
# mlflow.runName tag.
RUN_COLUMNS = {
    "run_id": "run_uuid",
    "run_name": "name",
    "status": "status",
    "user_id": "user_id",
    "start_time": "start_time",
    "end_time": "end_time",
}
ORDERABLE = set(RUN_COLUMNS)
NULLABLE_COLUMNS = {"end_time"}
ENTITY = "runs"


def search_runs(
    ctx,
    *,
    experiment_ids: list[str],
    filter_string: str = "",
    run_view_type: str = "ACTIVE_ONLY",
    max_results: int = 1000,
    order_by=(),
    page_token: str | None = None,
) -> tuple[list[Run], str | None]:
    """One page of the caller's runs, in one query; returns (runs, next_page_token or None)."""
    max_results = check_max_results(max_results, default=1000)
    comparisons = parse_filter(filter_string, RUN_SCHEMA)
    orders = parse_order_by(list(order_by or ()), ORDERABLE, aliases=ATTRIBUTE_ALIASES)
    lifecycle = lifecycle_q(run_view_type)
    experiments = requested_experiments(ctx, experiment_ids)
    if experiments is None:
        return [], None

    queryset = Run.objects.select_related("experiment").filter(lifecycle, experiment_id__in=experiments)
    for comparison in comparisons:
        queryset = queryset.filter(run_condition(comparison))
    relations, keys = run_sort_keys(orders)
    if relations:
        queryset = queryset.annotate(**relations)
    context = {
        "workspace": ctx.workspace.pk,
        "experiments": sorted(str(e) for e in wire_ids(experiment_ids)),
        "filter": filter_string or "",
        "view": view_type_name(run_view_type),
        "order_by": [[o.kind, o.key, o.ascending] for o in orders],
    }
    return page_tokens.paginate(
        queryset, keys, entity=ENTITY, context=context, max_results=max_results, page_token=page_token
    )


def run_condition(comparison) -> Q:
    """A WHERE condition on Run for one checked comparison."""
    kind, key, op, value = comparison.kind, comparison.key, comparison.op, comparison.value
    if kind == ATTRIBUTE:
        column = RUN_COLUMNS[key]
        if op in NULL_OPS:
            return Q(**{f"{column}__isnull": op == "IS NULL"})
        return Q(Predicate(column, op, value))
    if kind == METRIC:
        rows = LatestMetric.objects.filter(run=OuterRef("pk"), key=key)
        if op == "!=":  # NaN differs from every number
            matching = Q(Predicate("value", op, float(value))) | Q(is_nan=True)
        else:  # NaN is stored as 0 and satisfies no other comparison
            matching = Q(Predicate("value", op, float(value)), is_nan=False)
        return Q(Exists(rows.filter(matching)))
    if kind in (PARAM, TAG):
        model = Param if kind == PARAM else RunTag
        rows = model.objects.filter(run=OuterRef("pk"), key=key)
        if op == "IS NULL":
            return ~Q(Exists(rows))
        if op == "IS NOT NULL":
            return Q(Exists(rows))
        return Q(Exists(rows.filter(Predicate("value", op, value))))
    if kind == DATASET:
        inputs = RunInput.objects.filter(run=OuterRef("pk"))
        if key == "context":
            return Q(Exists(inputs.filter(InputTagPredicate("tags", DATASET_CONTEXT_TAG, op, value))))
        return Q(Exists(inputs.filter(Predicate(f"dataset__{key}", op, value))))
    raise AssertionError(f"unchecked comparison kind {kind}")


def run_sort_keys(orders) -> tuple[dict, list[SortKey]]:
    """FilteredRelations to annotate first, and the sort keys ending in run_uuid.

    Like MLflow, runs without the metric/param/tag sort after those with it in both directions
    (metrics: values, then NaN, then missing); then start_time DESC unless given; then run id.
    """
    relations: dict = {}
    keys: list[SortKey] = []
    seen_start_time = seen_run_id = False
    for index, order in enumerate(orders):
        name = f"_order{index}"
        if order.kind == ATTRIBUTE:
            column = RUN_COLUMNS[order.key]
            seen_start_time |= column == "start_time"
            seen_run_id |= column == "run_uuid"
            if column in NULLABLE_COLUMNS:
                keys.append(SortKey(f"{name}_rank", _missing_last(f"{column}__isnull")))
                keys.append(SortKey(f"{name}_value", Coalesce(F(column), Value(0)), order.ascending))
            else:
                keys.append(SortKey(column, None, order.ascending))
            continue
        relation = f"{name}_row"
        if order.kind == METRIC:
            relations[relation] = FilteredRelation("latest_metrics", condition=Q(latest_metrics__key=order.key))
            rank = Case(
                When(**{f"{relation}__id__isnull": True}, then=Value(2)),
                When(**{f"{relation}__is_nan": True}, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
            value = Case(
                When(**{f"{relation}__is_nan": False}, then=F(f"{relation}__value")),
                default=Value(0.0),
                output_field=FloatField(),
            )
        else:
            related = "params" if order.kind == PARAM else "tags"
            relations[relation] = FilteredRelation(related, condition=Q(**{f"{related}__key": order.key}))
            rank = _missing_last(f"{relation}__id__isnull")
            value = Coalesce(F(f"{relation}__value"), Value(""), output_field=TextField())
        keys.append(SortKey(f"{name}_rank", rank, True))
        keys.append(SortKey(f"{name}_value", value, order.ascending))
    if not seen_start_time:
        keys.append(SortKey("start_time", None, False))
    if not seen_run_id:
        keys.append(SortKey("run_uuid", None, True))
    return relations, keys


def _missing_last(isnull_lookup: str):
    return Case(When(**{isnull_lookup: True}, then=Value(1)), default=Value(0), output_field=IntegerField())
