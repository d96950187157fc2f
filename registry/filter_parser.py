"""The registry's subset of MLflow's search-filter language, parsed into comparisons.

Registry filters are small: ``<identifier> <comparator> <value>`` clauses joined by ``AND``
only. Identifiers are ``name``, ``version_number``, ``run_id``, ``source_path`` (optionally
prefixed ``attribute.``) or ``tags.<key>`` / ``tag.<key>`` with the key bare, backticked or
double-quoted; values are quoted strings, numbers or a parenthesised list of quoted strings.
Anything else (``OR``, ``;``, sub-selects, comments, stray tokens) is INVALID_PARAMETER_VALUE,
as in MLflow.

It produces the same ``Comparison(kind, key, op, value)`` shape as the shared tracking grammar
(``experiments/search``), so ``registry.search`` compiles either; when that grammar covers the
registry's identifiers, ``registry.search.parse_filter`` can switch to it and this module goes.
"""

import re
from dataclasses import dataclass

from experiments.errors import invalid

MAX_FILTER_LENGTH = 10_000

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<op>!=|<>|>=|<=|=|<|>)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][\w]*(?:\.(?:`[^`]+`|"[^"]+"|[\w.]+))?)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"AND", "LIKE", "ILIKE", "IN", "NOT"}
_ENTITY = {"attribute": "attribute", "attributes": "attribute", "tag": "tag", "tags": "tag"}


@dataclass(frozen=True)
class Comparison:
    kind: str  # "attribute" or "tag"
    key: str
    op: str  # = != > >= < <= LIKE ILIKE IN NOT IN
    value: object  # str, int, float, or a tuple of str for IN / NOT IN


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise invalid(f"Invalid clause(s) in filter string: '{text[position:position + 40]}'")
        position = match.end()
        kind = match.lastgroup
        if kind == "space":
            continue
        value = match.group()
        if kind == "ident" and value.upper() in _KEYWORDS:
            kind = value.upper()
        tokens.append((kind, value))
    return tokens


def _unquote(text: str) -> str:
    quote = text[0]
    return text[1:-1].replace(quote * 2, quote)


def _identifier(text: str) -> tuple[str, str]:
    head, dot, rest = text.partition(".")
    if not dot:
        return "attribute", text
    kind = _ENTITY.get(head.lower())
    if kind is None:
        raise invalid(f"Invalid entity type '{head}'. Valid entity types are ('attribute', 'tag', 'tags')")
    if rest[:1] in ("`", '"'):
        rest = rest[1:-1]
    if not rest:
        raise invalid(f"Invalid identifier '{text}' in filter string.")
    return kind, rest


class _Reader:
    def __init__(self, tokens):
        self.tokens, self.index = tokens, 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else (None, "")

    def take(self, *kinds):
        kind, value = self.peek()
        if kind not in kinds:
            shown = value or "end of filter"
            raise invalid(f"Invalid clause(s) in filter string: unexpected '{shown}'.")
        self.index += 1
        return kind, value


def _value(reader: _Reader, op: str):
    if op in ("IN", "NOT IN"):
        reader.take("lparen")
        items = [_unquote(reader.take("string")[1])]
        while reader.peek()[0] == "comma":
            reader.take("comma")
            items.append(_unquote(reader.take("string")[1]))
        reader.take("rparen")
        return tuple(items)
    kind, text = reader.take("string", "number")
    if kind == "string":
        return _unquote(text)
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)


def parse(text: str) -> list[Comparison]:
    """The comparisons of a filter; [] for an empty one."""
    if text is None or not str(text).strip():
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise invalid(f"The filter string exceeds {MAX_FILTER_LENGTH} characters.")
    reader = _Reader(_tokens(text))
    comparisons = []
    while True:
        kind, key = _identifier(reader.take("ident")[1])
        op_kind, op = reader.take("op", "LIKE", "ILIKE", "IN", "NOT")
        if op_kind == "NOT":
            reader.take("IN")
            op = "NOT IN"
        elif op_kind != "op":
            op = op_kind
        elif op == "<>":
            op = "!="
        comparisons.append(Comparison(kind=kind, key=key, op=op, value=_value(reader, op)))
        if reader.peek()[0] is None:
            return comparisons
        reader.take("AND")
