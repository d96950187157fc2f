"""experiments/search: MLflow's filter and order_by over the caller's visible experiments.

Default order, as MLflow's SQL store: ``creation_time DESC``, then ``experiment_id ASC``; when an
order_by does not name ``experiment_id``, the tie-breaker is ``experiment_id DESC`` (also as
MLflow). ``experiment_id`` is the wire id, so the Default experiment counts as 0.
"""

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When

from experiments.errors import invalid
from experiments.models import Experiment, ExperimentTag
from experiments.search import page_tokens
from experiments.search.grammar import (
    ATTRIBUTE,
    LIST_OPS,
    NULL_OPS,
    NUMBER,
    NUMERIC_OPS,
    STRING,
    STRING_OPS,
    Field,
    Schema,
    parse_filter,
    parse_order_by,
)
from experiments.search.options import check_max_results, lifecycle_q, view_type_name
from experiments.search.page_tokens import SortKey
from experiments.search.sql import Predicate
from experiments.selectors import visible_experiments

EXPERIMENT_SCHEMA = Schema(
    entity="experiments",
    attributes={
        "name": Field(STRING, STRING_OPS | LIST_OPS),
        "experiment_id": Field(STRING, frozenset({"=", "!="}) | LIST_OPS),
        "creation_time": Field(NUMBER, NUMERIC_OPS, integer=True),
        "last_update_time": Field(NUMBER, NUMERIC_OPS, integer=True),
    },
    tag=Field(STRING, STRING_OPS | LIST_OPS | NULL_OPS),
)
ORDERABLE = {"name", "experiment_id", "creation_time", "last_update_time"}
DEFAULT_ORDER = ["creation_time DESC", "experiment_id ASC"]
WIRE_ID = "_wire_id"
ENTITY = "experiments"


def wire_id_expression():
    """The experiment id as MLflow numbers it: 0 for the workspace's Default experiment."""
    return Case(When(is_default=True, then=Value(0)), default=F("pk"), output_field=IntegerField())


def search_experiments(
    ctx, *, filter_string: str = "", view_type: str = "ACTIVE_ONLY", max_results: int = 1000, order_by=(), page_token=None
) -> tuple[list[Experiment], str | None]:
    """One page of the experiments the caller can read, in one query."""
    max_results = check_max_results(max_results, default=1000)
    comparisons = parse_filter(filter_string, EXPERIMENT_SCHEMA)
    orders = parse_order_by(list(order_by or ()) or DEFAULT_ORDER, ORDERABLE, kinds=(ATTRIBUTE,))
    queryset = visible_experiments(ctx).filter(lifecycle_q(view_type)).annotate(**{WIRE_ID: wire_id_expression()})
    for comparison in comparisons:
        queryset = queryset.filter(experiment_condition(comparison))
    keys = []
    for order in orders:
        column = WIRE_ID if order.key == "experiment_id" else order.key
        keys.append(SortKey(column, None, order.ascending))
    if not any(order.key == "experiment_id" for order in orders):
        keys.append(SortKey(WIRE_ID, None, False))
    context = {
        "workspace": ctx.workspace.pk,
        "filter": filter_string or "",
        "view": view_type_name(view_type),
        "order_by": [[o.key, o.ascending] for o in orders],
    }
    return page_tokens.paginate(
        queryset, keys, entity=ENTITY, context=context, max_results=max_results, page_token=page_token
    )


def experiment_condition(comparison) -> Q:
    kind, key, op, value = comparison.kind, comparison.key, comparison.op, comparison.value
    if kind == ATTRIBUTE:
        if key == "experiment_id":
            numbers = tuple(_wire_number(v) for v in value) if isinstance(value, tuple) else _wire_number(value)
            return Q(Predicate(WIRE_ID, op, numbers))
        return Q(Predicate(key, op, value))
    rows = ExperimentTag.objects.filter(experiment=OuterRef("pk"), key=key)
    if op == "IS NULL":
        return ~Q(Exists(rows))
    if op == "IS NOT NULL":
        return Q(Exists(rows))
    return Q(Exists(rows.filter(Predicate("value", op, value))))


def _wire_number(text: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise invalid(f"Invalid filter: experiment_id must be a quoted decimal integer, found '{text}'.")
    return int(text.strip())
