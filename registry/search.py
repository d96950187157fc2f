"""Registry search: MLflow's filter and order_by for models and versions, compiled to bound SQL.

The text is parsed by the shared grammar (``experiments.search.grammar``); the schemas below say
what the registry accepts, as MLflow does: ``name`` (``= != LIKE ILIKE IN NOT IN``) and
``tags.<key>`` (``= != LIKE ILIKE``) for registered models; for model versions also
``run_id`` (string comparisons and lists), ``source_path`` (no lists) and ``version_number``
(``= != > >= < <=``, whole numbers; a quoted decimal such as ``'3'`` counts as 3, as in MLflow).
Comparisons become ORM conditions with ``experiments.search.sql.Predicate``, so LIKE is
case-sensitive on every database; pages are the shared signed keyset pages.
"""

import re

from django.db.models import Exists, F, OuterRef, Q

from experiments.search import page_tokens
from experiments.search.grammar import (
    ATTRIBUTE,
    LIST_OPS,
    NUMBER,
    NUMERIC_OPS,
    STRING,
    STRING_OPS,
    TAG,
    Comparison,
    Field,
    Schema,
    parse_filter,
    parse_order_by,
)
from experiments.search.page_tokens import SortKey
from experiments.search.sql import Predicate
from registry.models import ModelVersionTag, RegisteredModelTag

_NAME = Field(STRING, STRING_OPS | LIST_OPS)
_TAG = Field(STRING, STRING_OPS)

MODEL_SCHEMA = Schema("registered models", attributes={"name": _NAME}, tag=_TAG)
VERSION_SCHEMA = Schema(
    "model versions",
    attributes={
        "name": _NAME,
        "run_id": Field(STRING, STRING_OPS | LIST_OPS),
        "source_path": Field(STRING, STRING_OPS),
        "version_number": Field(NUMBER, NUMERIC_OPS, integer=True),
    },
    tag=_TAG,
)

# Wire attribute -> column, for filters (keys the schema accepts) and order_by (the *_ORDERABLE keys).
MODEL_COLUMNS = {
    "name": "name",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}
MODEL_ORDERABLE = set(MODEL_COLUMNS)
MODEL_ORDER_ALIASES = {"timestamp": "last_updated_timestamp"}
VERSION_COLUMNS = {
    "name": "registered_model__name",
    "run_id": "run__run_uuid",
    "source_path": "source",
    "version_number": "version",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}
VERSION_ORDERABLE = {"name", "version_number", "creation_timestamp", "last_updated_timestamp"}
DEFAULT_VERSION_ORDER = ["last_updated_timestamp DESC", "name ASC", "version_number DESC"]

MODEL_ENTITY, VERSION_ENTITY = "registered_models", "model_versions"
_QUOTED_INTEGER = re.compile(r"\s*[+-]?\d{1,18}\s*")


def parse_model_filter(text) -> list[Comparison]:
    return parse_filter(text, MODEL_SCHEMA)


def parse_version_filter(text) -> list[Comparison]:
    comparisons = [_quoted_version_number(c) for c in parse_filter(text)]
    return VERSION_SCHEMA.check(comparisons, text or "")


def _quoted_version_number(comparison: Comparison) -> Comparison:
    """MLflow reads ``version_number = '3'`` as 3; other strings still fail the schema."""
    if comparison.kind == ATTRIBUTE and comparison.key == "version_number" and isinstance(comparison.value, str):
        if _QUOTED_INTEGER.fullmatch(comparison.value):
            return Comparison(comparison.kind, comparison.key, comparison.op, int(comparison.value))
    return comparison


def model_condition(comparison: Comparison) -> Q:
    return _condition(comparison, MODEL_COLUMNS, RegisteredModelTag, "registered_model")


def version_condition(comparison: Comparison) -> Q:
    return _condition(comparison, VERSION_COLUMNS, ModelVersionTag, "model_version")


def _condition(comparison: Comparison, columns: dict, tag_model, owner: str) -> Q:
    """A checked comparison as a WHERE condition; a tag comparison needs the tag to exist."""
    if comparison.kind == TAG:
        rows = tag_model.objects.filter(**{owner: OuterRef("pk")}, key=comparison.key)
        return Q(Exists(rows.filter(Predicate("value", comparison.op, comparison.value))))
    return Q(Predicate(columns[comparison.key], comparison.op, comparison.value))


def model_sort_keys(order_by) -> list[SortKey]:
    """Name is unique per workspace, so it completes any ordering into a total one."""
    orders = parse_order_by(order_by, MODEL_ORDERABLE, kinds=(ATTRIBUTE,), aliases=MODEL_ORDER_ALIASES)
    return _sort_keys(orders, MODEL_COLUMNS, [("name", True)])


def version_sort_keys(order_by) -> list[SortKey]:
    """MLflow's default order; (name, version) completes any ordering into a total one."""
    orders = parse_order_by(list(order_by or ()) or DEFAULT_VERSION_ORDER, VERSION_ORDERABLE, kinds=(ATTRIBUTE,))
    return _sort_keys(orders, VERSION_COLUMNS, [("name", True), ("version_number", False)])


def _sort_keys(orders, columns: dict, tiebreak: list[tuple[str, bool]]) -> list[SortKey]:
    wanted = [(order.key, order.ascending) for order in orders]
    named = {key for key, _ in wanted}
    wanted += [(key, ascending) for key, ascending in tiebreak if key not in named]
    # Annotated under their own names: a sort key may live on a joined table (the model's name).
    return [SortKey(f"_sort_{key}", F(columns[key]), ascending) for key, ascending in wanted]


def filtered(queryset, comparisons: list[Comparison], condition):
    """The queryset narrowed by every comparison, each compiled by ``condition``."""
    for comparison in comparisons:
        queryset = queryset.filter(condition(comparison))
    return queryset


def paginate(ctx, queryset, keys: list[SortKey], *, entity: str, filter_string, max_results: int, page_token):
    """One keyset page: (rows, next token or None); a token only continues its own search.

    It is bound to the workspace, the filter and the full ordering, and signed per entity.
    """
    context = {
        "workspace": ctx.workspace.pk,
        "filter": filter_string or "",
        "order_by": [[key.name, key.ascending] for key in keys],
    }
    return page_tokens.paginate(
        queryset, keys, entity=entity, context=context, max_results=max_results, page_token=page_token
    )
