"""ORM expressions that turn one parsed comparison into a bound SQL predicate.

Django has no lookups for SQL's LIKE (only ``contains``/``startswith``, which escape the
wildcards) nor for a NULL-respecting ``<>``, and MLflow's dataset context lives in a JSON list,
so searches use these expressions. Values always travel as query parameters.

- ``Predicate(lhs, op, value)``: ``lhs`` (a field name or expression) compared with ``op`` from
  the grammar (``= != > >= < <= LIKE ILIKE IN NOT IN``). Usable in ``filter()`` and ``Q()``.
- ``InputTagPredicate(tags, key, op, value)``: true when a JSON list of ``{"key", "value"}``
  objects (``RunInput.tags``) holds an entry named ``key`` whose value matches.

LIKE is case-sensitive and ILIKE is not, on every database: ``%`` matches any run of
characters, ``_`` one character, and a backslash makes the next character literal. SQLite's
LIKE ignores case, so there LIKE compiles to GLOB (case-sensitive) and ILIKE to LIKE, which
folds ASCII letters only.
"""

from django.db.models import BooleanField, Expression, F

COMPARISON_SQL = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
INT64 = 2**63


def bindable(value):
    """Integers beyond 64 bits compare as floats (SQLite cannot bind them at all)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        return float(value)
    return value


def _like_parts(pattern: str):
    """(literal text, wildcard) pieces of a LIKE pattern; a trailing backslash is literal."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            yield pattern[i + 1], False
            i += 2
            continue
        if ch in "%_":
            yield ch, True
        else:
            yield ch, False
        i += 1


def like_pattern(pattern: str) -> str:
    """The pattern with every literal escaped for LIKE ... ESCAPE '\\'."""
    out = []
    for ch, wildcard in _like_parts(pattern):
        out.append(ch if wildcard or ch not in "%_\\" else "\\" + ch)
    return "".join(out)


def glob_pattern(pattern: str) -> str:
    """The LIKE pattern as a SQLite GLOB pattern (case-sensitive)."""
    out = []
    for ch, wildcard in _like_parts(pattern):
        if wildcard:
            out.append("*" if ch == "%" else "?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def predicate_sql(lhs_sql: str, lhs_params, op: str, value, vendor: str) -> tuple[str, tuple]:
    lhs = f"({lhs_sql})"
    params = tuple(lhs_params)
    if op in COMPARISON_SQL:
        return f"{lhs} {COMPARISON_SQL[op]} %s", (*params, bindable(value))
    if op in ("IN", "NOT IN"):
        values = tuple(bindable(v) for v in value)
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs} {op} ({placeholders})", (*params, *values)
    if op == "LIKE":
        if vendor == "sqlite":
            return f"{lhs} GLOB %s", (*params, glob_pattern(value))
        return f"{lhs} LIKE %s ESCAPE '\\'", (*params, like_pattern(value))
    if op == "ILIKE":
        if vendor == "postgresql":
            return f"{lhs} ILIKE %s ESCAPE '\\'", (*params, like_pattern(value))
        if vendor == "sqlite":
            return f"{lhs} LIKE %s ESCAPE '\\'", (*params, like_pattern(value))
        return f"LOWER({lhs}) LIKE LOWER(%s) ESCAPE '\\'", (*params, like_pattern(value))
    raise ValueError(f"unsupported comparator {op!r}")


class Predicate(Expression):
    """``lhs <op> value`` with the value bound; see the module docstring."""

    output_field = BooleanField()

    def __init__(self, lhs, op: str, value):
        super().__init__()
        self.lhs = F(lhs) if isinstance(lhs, str) else lhs
        self.op = op
        self.value = value

    def __repr__(self):
        return f"Predicate({self.lhs!r}, {self.op!r}, {self.value!r})"

    def get_source_expressions(self):
        return [self.lhs]

    def set_source_expressions(self, exprs):
        (self.lhs,) = exprs

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        return predicate_sql(lhs_sql, lhs_params, self.op, self.value, connection.vendor)


class InputTagPredicate(Expression):
    """EXISTS an entry ``{"key": key, "value": v}`` in a JSON list column with ``v <op> value``."""

    output_field = BooleanField()

    def __init__(self, tags, key: str, op: str, value):
        super().__init__()
        self.tags = F(tags) if isinstance(tags, str) else tags
        self.key = key
        self.op = op
        self.value = value

    def get_source_expressions(self):
        return [self.tags]

    def set_source_expressions(self, exprs):
        (self.tags,) = exprs

    def as_sql(self, compiler, connection):
        col, col_params = compiler.compile(self.tags)
        col_params = tuple(col_params)
        if connection.vendor == "postgresql":
            source = (
                f"jsonb_array_elements(CASE WHEN jsonb_typeof({col}) = 'array' THEN {col} "
                "ELSE '[]'::jsonb END) AS warden_input_tag(item)"
            )
            item_key = "warden_input_tag.item ->> 'key'"
            item_value = "warden_input_tag.item ->> 'value'"
        elif connection.vendor == "sqlite":
            source = f"json_each(CASE WHEN json_type({col}) = 'array' THEN {col} ELSE '[]' END) AS warden_input_tag"
            item_key = "CASE WHEN warden_input_tag.type = 'object' THEN json_extract(warden_input_tag.value, '$.key') END"
            item_value = (
                "CASE WHEN warden_input_tag.type = 'object' THEN json_extract(warden_input_tag.value, '$.value') END"
            )
        else:
            raise NotImplementedError(f"dataset context search is not implemented for {connection.vendor}")
        cond_sql, cond_params = predicate_sql(item_value, (), self.op, self.value, connection.vendor)
        sql = f"EXISTS (SELECT 1 FROM {source} WHERE ({item_key}) = %s AND {cond_sql})"
        return sql, (*col_params, *col_params, self.key, *cond_params)
