"""Registry search: MLflow's filter and order_by for models and versions, compiled to bound SQL.

The filter text is parsed into ``Comparison(kind, key, op, value)`` objects by
``registry.filter_parser`` (the shape the shared tracking grammar also produces); this module
decides which keys and operators the registry accepts (MLflow's: ``name`` and ``tags.<key>``
for models; ``name``, ``version_number``, ``run_id``, ``source_path`` and ``tags.<key>`` for
versions) and turns them into Q objects. Pages are
keyset pages: the token carries the last row's sort values, signed and bound to the workspace,
the filter and the ordering, so it cannot be replayed against another scope.
"""

import hashlib
import re

from django.core import signing
from django.db.models import Exists, F, OuterRef, Q

from experiments.errors import invalid
from registry import filter_parser
from registry.models import ModelVersionTag, RegisteredModelTag

STRING_OPS = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
TAG_OPS = {"=", "!=", "LIKE", "ILIKE"}
NUMERIC_OPS = {"=", "!=", ">", ">=", "<", "<="}
_TOKEN_SALT = "warden.registry.search.page"

MODEL_ORDER_KEYS = {
    "name": "name",
    "timestamp": "last_updated_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "creation_timestamp": "creation_timestamp",
}
VERSION_ORDER_KEYS = {
    "name": "registered_model__name",
    "version_number": "version",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}
DEFAULT_VERSION_ORDER = ["last_updated_timestamp DESC", "name ASC", "version_number DESC"]


def parse_filter(filter_string):
    """The comparisons of an MLflow filter string (AND only); empty for no filter."""
    return filter_parser.parse(filter_string)


def _kind(comparison) -> str:
    kind = str(comparison.kind).lower()
    if kind in ("tag", "tags"):
        return "tag"
    if kind in ("attribute", "attributes", "attr", "run"):
        return "attribute"
    return kind


def _op(comparison) -> str:
    return " ".join(str(comparison.op).upper().split())


def like_regex(pattern: str) -> str:
    """SQL LIKE as an anchored regular expression, so LIKE is case-sensitive on every database."""
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(r"[\s\S]*")
        elif char == "_":
            parts.append(r"[\s\S]")
        else:
            parts.append(re.escape(char))
    return r"\A" + "".join(parts) + r"\Z"  # \Z, unlike $, never matches before a final newline


def _string_condition(field: str, op: str, value) -> Q:
    if op in ("IN", "NOT IN"):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise invalid(f"Expected a list of quoted strings for '{op}'.")
        condition = Q(**{f"{field}__in": list(value)})
        return condition if op == "IN" else ~condition
    if not isinstance(value, str):
        raise invalid(f"Expected a quoted string value for '{field}'. Got value {value}")
    if op == "=":
        return Q(**{field: value})
    if op == "!=":
        return ~Q(**{field: value})
    if op == "LIKE":
        return Q(**{f"{field}__regex": like_regex(value)})
    return Q(**{f"{field}__iregex": like_regex(value)})


def _tag_condition(tag_model, owner: str, key: str, op: str, value) -> Q:
    if op not in TAG_OPS:
        raise invalid(f"Invalid comparator for tag: {op}")
    if not isinstance(value, str):
        raise invalid(f"Expected a quoted string value for tag '{key}'. Got value {value}")
    rows = tag_model.objects.filter(**{owner: OuterRef("pk")}, key=key)
    if op == "!=":
        rows = rows.exclude(value=value)
    else:
        rows = rows.filter(_string_condition("value", op, value))
    return Q(Exists(rows))


def _numeric(value, key: str) -> int:
    if isinstance(value, bool):
        raise invalid(f"Invalid value for numeric attribute '{key}': {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid(f"Invalid value for numeric attribute '{key}': {value!r}")
        return int(value)
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise invalid(f"Invalid value for numeric attribute '{key}': {value!r}")


def compile_model_filter(comparisons) -> Q:
    condition = Q()
    for comparison in comparisons:
        kind, op, key, value = _kind(comparison), _op(comparison), comparison.key, comparison.value
        if kind == "tag":
            condition &= _tag_condition(RegisteredModelTag, "registered_model", key, op, value)
        elif kind == "attribute" and key == "name":
            if op not in STRING_OPS:
                raise invalid(f"Invalid comparator for attribute: {op}")
            condition &= _string_condition("name", op, value)
        elif kind == "attribute":
            raise invalid(f"Invalid attribute key '{key}' specified. Valid keys are '{{'name'}}'")
        else:
            raise invalid(f"Invalid entity type '{comparison.kind}'. Valid entity types are ('attribute', 'tag', 'tags')")
    return condition


_VERSION_STRING_FIELDS = {"name": "registered_model__name", "run_id": "run__run_uuid", "source_path": "source"}


def compile_version_filter(comparisons) -> Q:
    condition = Q()
    for comparison in comparisons:
        kind, op, key, value = _kind(comparison), _op(comparison), comparison.key, comparison.value
        if kind == "tag":
            condition &= _tag_condition(ModelVersionTag, "model_version", key, op, value)
        elif kind == "attribute" and key == "version_number":
            if op not in NUMERIC_OPS:
                raise invalid(f"Invalid comparator for attribute {key}: {op}")
            number = _numeric(value, key)
            lookup = {"=": "version", ">": "version__gt", ">=": "version__gte", "<": "version__lt", "<=": "version__lte"}
            condition &= ~Q(version=number) if op == "!=" else Q(**{lookup[op]: number})
        elif kind == "attribute" and key in _VERSION_STRING_FIELDS:
            if op not in STRING_OPS or (op in ("IN", "NOT IN") and key == "source_path"):
                raise invalid(f"Invalid comparator for attribute: {op}")
            field = _VERSION_STRING_FIELDS[key]
            if op == "!=" and key == "run_id":
                condition &= Q(run__isnull=False) & ~Q(run__run_uuid=value)
            else:
                condition &= _string_condition(field, op, value)
        elif kind == "attribute":
            raise invalid(
                f"Invalid attribute key '{key}' specified. Valid keys are "
                "'{'name', 'version_number', 'run_id', 'source_path'}'"
            )
        else:
            raise invalid(f"Invalid entity type '{comparison.kind}'. Valid entity types are ('attribute', 'tag', 'tags')")
    return condition


def _parse_order_clause(clause) -> tuple[str, bool]:
    if not isinstance(clause, str) or not clause.strip():
        raise invalid(f"Invalid order_by clause '{clause}'.")
    tokens = clause.split()
    ascending = True
    if len(tokens) == 2:
        direction = tokens[1].upper()
        if direction not in ("ASC", "DESC"):
            raise invalid(f"Invalid ordering key in order_by clause '{clause}'.")
        ascending = direction == "ASC"
    elif len(tokens) != 1:
        raise invalid(f"Invalid order_by clause '{clause}'. Could not be parsed.")
    key = tokens[0].strip("`\"'")
    for prefix in ("attribute.", "attributes."):
        if key.startswith(prefix):
            key = key[len(prefix):].strip("`\"'")
    return key, ascending


def _ordering(order_by, keys: dict, tiebreak: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    ordering, seen = [], set()
    for clause in order_by or []:
        key, ascending = _parse_order_clause(clause)
        if key not in keys:
            raise invalid(f"Invalid order by key '{key}' specified. Valid keys are '{sorted(keys)}'")
        field = keys[key]
        if field in seen:
            raise invalid(f"`order_by` contains duplicate fields: {list(order_by)}")
        seen.add(field)
        ordering.append((field, ascending))
    ordering.extend((field, ascending) for field, ascending in tiebreak if field not in seen)
    return ordering


def model_ordering(order_by) -> list[tuple[str, bool]]:
    """Name is unique per workspace, so it completes any ordering into a total one."""
    return _ordering(order_by, MODEL_ORDER_KEYS, [("name", True)])


def version_ordering(order_by) -> list[tuple[str, bool]]:
    return _ordering(order_by or DEFAULT_VERSION_ORDER, VERSION_ORDER_KEYS, [("registered_model__name", True), ("version", False)])


def _scope_digest(scope) -> str:
    return hashlib.sha256(repr(scope).encode()).hexdigest()[:32]


def keyset_page(queryset, ordering, *, max_results: int, page_token, scope):
    """Rows after the token's position in ``ordering``; returns (rows, next token or None)."""
    aliases = [f"_sort{i}" for i in range(len(ordering))]
    queryset = queryset.annotate(**{alias: F(field) for alias, (field, _) in zip(aliases, ordering)})
    digest = _scope_digest(scope)
    if page_token:
        try:
            data = signing.loads(page_token, salt=_TOKEN_SALT)
        except (signing.BadSignature, ValueError, TypeError):
            raise invalid("Invalid page token.")
        if not isinstance(data, dict) or data.get("s") != digest or len(data.get("k") or []) != len(ordering):
            raise invalid("Invalid page token: it belongs to another search.")
        queryset = queryset.filter(_after(aliases, ordering, data["k"]))
    order = [F(alias).asc() if ascending else F(alias).desc() for alias, (_, ascending) in zip(aliases, ordering)]
    rows = list(queryset.order_by(*order)[: max_results + 1])
    if len(rows) <= max_results:
        return rows, None
    rows = rows[:max_results]
    last = rows[-1]
    token = signing.dumps({"s": digest, "k": [getattr(last, alias) for alias in aliases]}, salt=_TOKEN_SALT, compress=True)
    return rows, token


def _after(aliases, ordering, values) -> Q:
    """Lexicographic "comes after" over the sort columns."""
    condition = Q(pk__in=[])
    for i, (alias, (_, ascending)) in enumerate(zip(aliases, ordering)):
        step = Q(**{aliases[j]: values[j] for j in range(i)})
        step &= Q(**{f"{alias}__{'gt' if ascending else 'lt'}": values[i]})
        condition |= step
    return condition
