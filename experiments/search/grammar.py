"""MLflow's search filter language and ``order_by`` clauses, parsed without SQL libraries.

Warden compiles searches to bound SQL, so the filter text is never pasted into a query: this
module only turns text into plain data, and each entity (runs, experiments, logged models,
registered models, model versions) compiles that data with the ORM.

Filter syntax (what the MLflow client sends)::

    filter     := comparison ( AND comparison )*          -- AND only; OR is rejected
    comparison := column op value | column IS [NOT] NULL
    column     := [type "."] key
    type       := metrics | metric | params | param | parameters | parameter | tags | tag
                | attributes | attribute | attr | run | datasets | dataset   (any case)
    key        := bare word (letters, digits, _ . - / :, dots allowed: tags.mlflow.runName)
                | "double" | 'single' | `backtick` quoted (any text; the quote doubled inside)
    op         := = | != | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN      (keywords any case)
    value      := number (1, -2, 0.5, 1e-3, .5) | 'single' or "double" quoted string
                | ( value, value, ... )                    -- for IN / NOT IN

A column without a type is an attribute (``name``, ``status``, ``run_id``). Inside a quoted
string the quote character is escaped by doubling it (``'it''s'``); a backslash is kept as is,
so ``LIKE '100\\%'`` reaches the LIKE matcher, where ``%`` and ``_`` are wildcards and a
backslash escapes the next character.

API:

- ``parse_filter(text, schema=None) -> list[Comparison]``: ``Comparison(kind, key, op, value)``
  with ``kind`` one of ``metric param tag attribute dataset``; ``op`` upper-case as listed
  above plus ``IS NULL`` / ``IS NOT NULL`` (value None); ``value`` is ``str``, ``int``,
  ``float`` or a ``tuple`` of those (IN lists). Without a schema only the syntax is checked.
- ``Schema(entity, attributes={name: Field}, aliases={...}, metric=Field|None, param=...,
  tag=..., dataset={name: Field}, unsupported={name: reason})`` says which kinds, attribute
  keys, operators and value types an entity accepts; ``Field(type, ops, integer=False)`` with
  ``type`` NUMBER or STRING and ops from ``NUMERIC_OPS``, ``STRING_OPS``, ``LIST_OPS``,
  ``NULL_OPS``. ``schema.check(comparisons)`` validates and returns them with attribute
  aliases resolved (``created`` -> ``start_time``). Example for model versions::

      Schema("model versions", attributes={"name": Field(STRING, STRING_OPS | LIST_OPS),
             "run_id": Field(STRING, STRING_OPS | LIST_OPS),
             "version_number": Field(NUMBER, NUMERIC_OPS, integer=True)},
             tag=Field(STRING, STRING_OPS | NULL_OPS))

- ``parse_order_by(clauses, allowed_attrs, *, kinds=..., aliases=None) -> list[OrderBy]``:
  ``OrderBy(kind, key, ascending)`` for clauses such as ``metrics.acc DESC``,
  ``params.`a b` ASC``, ``start_time``; attribute keys must be in ``allowed_attrs``;
  duplicate fields are rejected.

Every error is ``experiments.errors.invalid(...)`` (400 INVALID_PARAMETER_VALUE) whose
message starts with "Invalid filter" or "Invalid order_by clause". A filter holds at most
``MAX_COMPARISONS`` comparisons and an IN list at most ``MAX_LIST_VALUES`` values.

To compile, ``experiments.search.sql.Predicate(column, op, value)`` gives the bound SQL for
``= != > >= < <= LIKE ILIKE IN NOT IN`` with LIKE case-sensitive on every database.

Where Warden is wider than MLflow (accepted here, refused there): bare keys with ``- / :``,
``IN`` on params and tags, doubled quotes inside strings, entity types in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from experiments.errors import invalid

METRIC, PARAM, TAG, ATTRIBUTE, DATASET = "metric", "param", "tag", "attribute", "dataset"
KINDS = (METRIC, PARAM, TAG, ATTRIBUTE, DATASET)

TYPE_ALIASES = {
    "metric": METRIC,
    "metrics": METRIC,
    "param": PARAM,
    "params": PARAM,
    "parameter": PARAM,
    "parameters": PARAM,
    "tag": TAG,
    "tags": TAG,
    "attribute": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "attr": ATTRIBUTE,
    "run": ATTRIBUTE,
    "dataset": DATASET,
    "datasets": DATASET,
}

NUMBER, STRING = "number", "string"
NUMERIC_OPS = frozenset({"=", "!=", ">", ">=", "<", "<="})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
LIST_OPS = frozenset({"IN", "NOT IN"})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})
ALL_OPS = NUMERIC_OPS | STRING_OPS | LIST_OPS | NULL_OPS

_MAX_ECHO = 200  # how much of the caller's text an error message repeats
MAX_COMPARISONS = 100  # each becomes a subquery; more is a mistake or an attack
MAX_LIST_VALUES = 10000  # bound parameters per IN list (PostgreSQL allows 65535 per query)


@dataclass(frozen=True)
class Comparison:
    kind: str
    key: str
    op: str
    value: str | int | float | tuple | None


@dataclass(frozen=True)
class OrderBy:
    kind: str
    key: str
    ascending: bool


# ------------------------------------------------------------------ tokens

WORD, QUOTED, NUM, OP, LPAREN, RPAREN, COMMA, DOT, END = (
    "word", "quoted", "number", "operator", "(", ")", ",", ".", "end",
)

_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/:]*")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_OPERATORS = (">=", "<=", "!=", "<>", "==", "=", "<", ">")
_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL"}


@dataclass(frozen=True)
class Token:
    type: str
    text: str  # unquoted text for QUOTED, the lexeme otherwise
    pos: int
    quote: str = ""  # the quote character of a QUOTED token

    @property
    def keyword(self) -> str | None:
        if self.type == WORD and self.text.upper() in _KEYWORDS:
            return self.text.upper()
        return None

    def describe(self) -> str:
        if self.type == END:
            return "the end of the text"
        if self.type == QUOTED:
            return f"{self.quote}{self.text}{self.quote} at position {self.pos}"
        return f"'{self.text}' at position {self.pos}"


def tokenize(text: str, what: str = "filter") -> list[Token]:
    """Split text into tokens; ``what`` names the input in error messages."""
    if "\x00" in text:
        raise _error(what, text, "it contains a NUL character")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "'\"`":
            value, i_next = _read_quoted(text, i, what)
            tokens.append(Token(QUOTED, value, i, ch))
            i = i_next
            continue
        number = _NUMBER_RE.match(text, i) if (ch.isdigit() or ch in "+-.") else None
        if number:
            tokens.append(Token(NUM, number.group(), i))
            i = number.end()
            continue
        word = _WORD_RE.match(text, i)
        if word:
            tokens.append(Token(WORD, word.group(), i))
            i = word.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator:
            tokens.append(Token(OP, operator, i))
            i += len(operator)
            continue
        if ch in "(),.":
            tokens.append(Token({"(": LPAREN, ")": RPAREN, ",": COMMA, ".": DOT}[ch], ch, i))
            i += 1
            continue
        raise _error(what, text, f"unexpected character {ch!r} at position {i}")
    tokens.append(Token(END, "", n))
    return tokens


def _read_quoted(text: str, start: int, what: str) -> tuple[str, int]:
    quote = text[start]
    parts = []
    i = start + 1
    while True:
        end = text.find(quote, i)
        if end < 0:
            raise _error(what, text, f"unterminated {quote} quote starting at position {start}")
        parts.append(text[i:end])
        if text.startswith(quote, end + 1):  # a doubled quote stands for the quote itself
            parts.append(quote)
            i = end + 2
            continue
        return "".join(parts), end + 1


def _error(what: str, text: str, detail: str):
    echo = text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "..."
    label = "filter" if what == "filter" else "order_by clause"
    return invalid(f"Invalid {label} {echo!r}: {detail}.")


class _Cursor:
    def __init__(self, text: str, what: str):
        self.text = text
        self.what = what
        self.tokens = tokenize(text, what)
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        if token.type != END:
            self.index += 1
        return token

    def fail(self, detail: str):
        return _error(self.what, self.text, detail)


# ------------------------------------------------------------------ columns


def _read_column(cursor: _Cursor) -> tuple[str, str]:
    """(kind, key) of a column reference: ``metrics.loss``, ``tags.`a b```, ``name``..."""
    token = cursor.take()
    if token.type == WORD and token.keyword is None:
        text = token.text
        if "." not in text:
            if cursor.peek().type == DOT:  # e.g. tags . "x" is not a column form we accept
                raise cursor.fail(f"unexpected '.' at position {cursor.peek().pos}")
            return ATTRIBUTE, text
        prefix, key = text.split(".", 1)
        kind = _kind(cursor, prefix)
        if key:
            return kind, key
        return kind, _read_key(cursor, prefix)
    if token.type == QUOTED and token.quote in "`\"":
        if cursor.peek().type == DOT:
            cursor.take()
            kind = _kind(cursor, token.text)
            nxt = cursor.peek()
            if nxt.type == WORD:
                cursor.take()
                return kind, nxt.text
            return kind, _read_key(cursor, token.text)
        if not token.text:
            raise cursor.fail(f"empty column name at position {token.pos}")
        return ATTRIBUTE, token.text
    raise cursor.fail(f"expected a column such as metrics.<key>, params.<key>, tags.<key> or an attribute, found {token.describe()}")


def _read_key(cursor: _Cursor, prefix: str) -> str:
    token = cursor.take()
    if token.type == QUOTED:
        if not token.text:
            raise cursor.fail(f"empty key after '{prefix}.' at position {token.pos}")
        return token.text
    raise cursor.fail(f"expected a key after '{prefix}.', found {token.describe()}")


def _kind(cursor: _Cursor, prefix: str) -> str:
    kind = TYPE_ALIASES.get(prefix.lower())
    if kind is None:
        raise cursor.fail(
            f"invalid entity type '{prefix}'; valid types are metrics, params, tags, attributes and datasets "
            "(quote keys that contain special characters with backticks: tags.`my key`)"
        )
    return kind


# ------------------------------------------------------------------ filters


def parse_filter(text: str | None, schema: Schema | None = None) -> list[Comparison]:
    """The AND-ed comparisons of a filter string; checked against ``schema`` when given."""
    if text is None:
        return []
    if not isinstance(text, str):
        raise invalid("Invalid filter: the filter must be a string.")
    if not text.strip():
        return []
    cursor = _Cursor(text, "filter")
    comparisons = [_read_comparison(cursor)]
    while True:
        token = cursor.take()
        if token.type == END:
            break
        if token.keyword == "AND":
            if len(comparisons) >= MAX_COMPARISONS:
                raise cursor.fail(f"at most {MAX_COMPARISONS} comparisons are allowed")
            comparisons.append(_read_comparison(cursor))
            continue
        if token.keyword == "OR":
            raise cursor.fail(f"OR is not supported (position {token.pos}); combine comparisons with AND")
        raise cursor.fail(f"expected AND or the end of the filter, found {token.describe()}")
    return schema.check(comparisons, text) if schema is not None else comparisons


def _read_comparison(cursor: _Cursor) -> Comparison:
    kind, key = _read_column(cursor)
    op = _read_operator(cursor, kind, key)
    if op in NULL_OPS:
        return Comparison(kind, key, op, None)
    if op in LIST_OPS:
        return Comparison(kind, key, op, _read_list(cursor, op))
    return Comparison(kind, key, op, _read_scalar(cursor, op))


def _read_operator(cursor: _Cursor, kind: str, key: str) -> str:
    token = cursor.take()
    if token.type == OP:
        if token.text in ("<>", "=="):
            raise cursor.fail(f"invalid comparator '{token.text}' at position {token.pos}; use {'!=' if token.text == '<>' else '='}")
        return token.text
    keyword = token.keyword
    if keyword in ("LIKE", "ILIKE", "IN"):
        return keyword
    if keyword == "NOT":
        nxt = cursor.take()
        if nxt.keyword == "IN":
            return "NOT IN"
        if nxt.keyword in ("LIKE", "ILIKE"):
            raise cursor.fail(f"NOT {nxt.keyword} is not supported (position {token.pos})")
        raise cursor.fail(f"expected IN after NOT, found {nxt.describe()}")
    if keyword == "IS":
        nxt = cursor.take()
        if nxt.keyword == "NULL":
            return "IS NULL"
        if nxt.keyword == "NOT" and cursor.peek().keyword == "NULL":
            cursor.take()
            return "IS NOT NULL"
        raise cursor.fail(f"expected NULL or NOT NULL after IS, found {nxt.describe()}")
    raise cursor.fail(
        f"expected a comparator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL) "
        f"after {_column_text(kind, key)}, found {token.describe()}"
    )


def _read_scalar(cursor: _Cursor, op: str):
    token = cursor.take()
    if token.type == NUM:
        return _number(token.text)
    if token.type == QUOTED and token.quote in "'\"":
        return token.text
    if token.type == LPAREN:
        raise cursor.fail(f"a parenthesised list needs IN or NOT IN, not '{op}' (position {token.pos})")
    raise cursor.fail(
        f"expected a number or a quoted string ('value' or \"value\") after '{op}', found {token.describe()}"
    )


def _read_list(cursor: _Cursor, op: str) -> tuple:
    opening = cursor.take()
    if opening.type != LPAREN:
        raise cursor.fail(f"expected a parenthesised list after {op}, found {opening.describe()}")
    values = []
    while True:
        token = cursor.take()
        if token.type == NUM:
            values.append(_number(token.text))
        elif token.type == QUOTED and token.quote in "'\"":
            values.append(token.text)
        elif token.type == RPAREN and not values:
            raise cursor.fail(f"the list after {op} is empty (position {token.pos})")
        else:
            raise cursor.fail(f"expected a quoted string or number in the list after {op}, found {token.describe()}")
        if len(values) > MAX_LIST_VALUES:
            raise cursor.fail(f"the list after {op} has more than {MAX_LIST_VALUES} values")
        separator = cursor.take()
        if separator.type == RPAREN:
            return tuple(values)
        if separator.type != COMMA:
            raise cursor.fail(f"expected ',' or ')' in the list after {op}, found {separator.describe()}")


def _number(text: str) -> int | float:
    """Whole literals stay exact ints; absurdly long ones (and exponents) become floats."""
    if re.fullmatch(r"[+-]?\d{1,40}", text):
        return int(text)
    return float(text)


def _column_text(kind: str, key: str) -> str:
    return key if kind == ATTRIBUTE else f"{kind}s.{key}"


# ------------------------------------------------------------------ schemas


@dataclass(frozen=True)
class Field:
    type: str  # NUMBER or STRING
    ops: frozenset
    integer: bool = False  # numbers must be whole (timestamps of experiments, version numbers)


@dataclass(frozen=True)
class Schema:
    """What one searchable entity accepts; see the module docstring."""

    entity: str
    attributes: Mapping[str, Field] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    metric: Field | None = None
    param: Field | None = None
    tag: Field | None = None
    dataset: Mapping[str, Field] = field(default_factory=dict)
    unsupported: Mapping[str, str] = field(default_factory=dict)  # attribute -> why it is refused

    def check(self, comparisons: Iterable[Comparison], text: str = "") -> list[Comparison]:
        return [self._check_one(c, text) for c in comparisons]

    def _field(self, comparison: Comparison, text: str) -> tuple[str, Field]:
        kind, key = comparison.kind, comparison.key
        if kind == ATTRIBUTE:
            key = self.aliases.get(key, key)
            if key in self.unsupported:
                raise _error("filter", text, self.unsupported[key])
            spec = self.attributes.get(key)
            if spec is None:
                raise _error("filter", text, f"invalid attribute key '{comparison.key}'; valid keys are {_names(self.attributes)}")
            return key, spec
        if kind == DATASET:
            if not self.dataset:
                raise _error("filter", text, f"datasets cannot be searched when searching {self.entity}")
            spec = self.dataset.get(key)
            if spec is None:
                raise _error("filter", text, f"invalid dataset key '{key}'; valid keys are {_names(self.dataset)}")
            return key, spec
        spec = getattr(self, kind)
        if spec is None:
            raise _error("filter", text, f"{kind}s cannot be searched when searching {self.entity}")
        return key, spec

    def _check_one(self, comparison: Comparison, text: str) -> Comparison:
        key, spec = self._field(comparison, text)
        column = _column_text(comparison.kind, key)
        op = comparison.op
        if op not in spec.ops:
            raise _error("filter", text, f"invalid comparator '{op}' for {column}; expected one of {_ops(spec.ops)}")
        value = comparison.value
        values = value if isinstance(value, tuple) else () if value is None else (value,)
        for item in values:
            if spec.type == NUMBER:
                if not isinstance(item, (int, float)):
                    raise _error("filter", text, f"expected a numeric value for {column}, found '{item}'")
                if spec.integer and not isinstance(item, int):
                    raise _error("filter", text, f"expected a whole number for {column}, found {item!r}")
            elif not isinstance(item, str):
                raise _error("filter", text, f"expected a quoted string value for {column} (e.g. 'my-value'), found {item!r}")
        return Comparison(comparison.kind, key, op, value)


def _names(mapping) -> str:
    return ", ".join(sorted(mapping))


def _ops(ops) -> str:
    order = ["=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"]
    return ", ".join(op for op in order if op in ops)


# ------------------------------------------------------------------ order_by


def parse_order_by(
    clauses,
    allowed_attrs: Iterable[str],
    *,
    kinds: Iterable[str] = (METRIC, PARAM, TAG, ATTRIBUTE),
    aliases: Mapping[str, str] | None = None,
) -> list[OrderBy]:
    """Parse ``order_by`` clauses: ``<column> [ASC|DESC]``, ascending by default."""
    if clauses is None:
        return []
    if isinstance(clauses, str):
        clauses = [clauses]
    allowed, kinds, aliases = set(allowed_attrs), set(kinds), dict(aliases or {})
    result: list[OrderBy] = []
    seen: set[tuple[str, str]] = set()
    for clause in clauses:
        if not isinstance(clause, str) or not clause.strip():
            raise invalid(f"Invalid order_by clause {clause!r}: expected '<column> [ASC|DESC]'.")
        cursor = _Cursor(clause, "order_by")
        kind, key = _read_column(cursor)
        ascending = True
        token = cursor.take()
        if token.type == WORD and token.text.upper() in ("ASC", "DESC"):
            ascending = token.text.upper() == "ASC"
            token = cursor.take()
        if token.type != END:
            raise cursor.fail(f"expected ASC, DESC or the end of the clause, found {token.describe()}")
        if kind not in kinds:
            raise cursor.fail(f"cannot order by {kind}s here; valid types are {', '.join(sorted(k + 's' for k in kinds))}")
        if kind == ATTRIBUTE:
            key = aliases.get(key, key)
            if key not in allowed:
                raise cursor.fail(f"invalid attribute key '{key}'; valid keys are {_names(allowed)}")
        if (kind, key) in seen:
            raise invalid(f"Invalid order_by clause {clause!r}: `order_by` contains duplicate fields.")
        seen.add((kind, key))
        result.append(OrderBy(kind, key, ascending))
    return result
