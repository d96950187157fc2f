"""Opaque, signed page tokens and keyset pagination for searches.

A page token carries the sort-key values of the last row of the page (ending in a unique
tie-breaker, so the order is total) and a fingerprint of the query it belongs to. The next page
is "rows strictly after those values" in that order, so rows added or removed between calls
never shift a page and deep pages cost what the first does (no OFFSET). Tokens are signed with
``django.core.signing`` under a salt per entity: a token that was altered, comes from another
entity or another query is refused as ``invalid("Invalid page token")``.

API:

- ``SortKey(name, expression=None, ascending=True)``: a model field path (``start_time``,
  ``pk``) or, with ``expression``, an annotation named ``name``. Keep sort values non-NULL
  (wrap nullable ones in a rank + Coalesce pair) so "after" is a plain comparison.
- ``paginate(queryset, keys, *, entity, context, max_results, page_token)`` -> ``(rows, token)``:
  one query fetching ``max_results + 1`` rows; ``context`` is anything JSON-able that
  identifies the query (filter, order, scope); a token only continues the query it came from.
- ``encode(entity, values, context)`` / ``decode(entity, token, context, count)``.
"""

import hashlib
import json
from dataclasses import dataclass

from django.core import signing
from django.db.models import F, Q

from experiments.errors import invalid

TOKEN_VERSION = 1


@dataclass(frozen=True)
class SortKey:
    name: str
    expression: object = None
    ascending: bool = True


def fingerprint(context) -> str:
    text = json.dumps(context, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _salt(entity: str) -> str:
    return f"warden.search.{entity}.page-token"


def encode(entity: str, values: list, context) -> str:
    payload = {"v": TOKEN_VERSION, "q": fingerprint(context), "k": list(values)}
    return signing.dumps(payload, salt=_salt(entity), compress=True)


def decode(entity: str, token, context, count: int) -> list:
    if not isinstance(token, str) or len(token) > 8192:
        raise invalid("Invalid page token")
    try:
        payload = signing.loads(token, salt=_salt(entity))
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise invalid("Invalid page token")
    if (
        not isinstance(payload, dict)
        or payload.get("v") != TOKEN_VERSION
        or payload.get("q") != fingerprint(context)
        or not isinstance(payload.get("k"), list)
        or len(payload["k"]) != count
    ):
        raise invalid("Invalid page token")
    return payload["k"]


def after(keys: list[SortKey], values: list) -> Q:
    """Rows strictly after ``values`` in the order of ``keys``."""
    condition = Q()
    equal_prefix = Q()
    for key, value in zip(keys, values):
        direction = "gt" if key.ascending else "lt"
        condition |= equal_prefix & Q(**{f"{key.name}__{direction}": value})
        equal_prefix &= Q(**{key.name: value})
    return condition


def paginate(queryset, keys: list[SortKey], *, entity: str, context, max_results: int, page_token=None):
    annotations = {key.name: key.expression for key in keys if key.expression is not None}
    if annotations:
        queryset = queryset.annotate(**annotations)
    if page_token:
        queryset = queryset.filter(after(keys, decode(entity, page_token, context, len(keys))))
    ordering = [F(key.name).asc() if key.ascending else F(key.name).desc() for key in keys]
    rows = list(queryset.order_by(*ordering)[: max_results + 1])
    if len(rows) <= max_results:
        return rows, None
    rows = rows[:max_results]
    last = rows[-1]
    return rows, encode(entity, [_value(last, key.name) for key in keys], context)


def _value(row, path: str):
    value = row
    for part in path.split("__"):
        value = getattr(value, part)
    return value
