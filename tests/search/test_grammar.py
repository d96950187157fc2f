"""The filter grammar and order_by parser: valid forms, operators, quoting, schemas and errors."""

import pytest

from experiments.errors import MlflowError
from experiments.search.grammar import (
    LIST_OPS,
    NULL_OPS,
    NUMBER,
    NUMERIC_OPS,
    STRING,
    STRING_OPS,
    Comparison,
    Field,
    OrderBy,
    Schema,
    parse_filter,
    parse_order_by,
    tokenize,
)
from experiments.search.runs import RUN_SCHEMA

C = Comparison


@pytest.mark.parametrize(
    "text, expected",
    [
        ("metrics.acc > 0.5", [C("metric", "acc", ">", 0.5)]),
        ("metric.acc>=1", [C("metric", "acc", ">=", 1)]),
        ("metrics.loss < -2", [C("metric", "loss", "<", -2)]),
        ("metrics.loss <= 1e-3", [C("metric", "loss", "<=", 0.001)]),
        ("metrics.loss = -1.5E+2", [C("metric", "loss", "=", -150.0)]),
        ("metrics.loss != .5", [C("metric", "loss", "!=", 0.5)]),
        ("params.lr = '0.01'", [C("param", "lr", "=", "0.01")]),
        ('param.lr = "0.01"', [C("param", "lr", "=", "0.01")]),
        ("parameters.opt LIKE 'ad%'", [C("param", "opt", "LIKE", "ad%")]),
        ("parameter.opt ilike 'AD%'", [C("param", "opt", "ILIKE", "AD%")]),
        ("tags.mlflow.runName = 'x'", [C("tag", "mlflow.runName", "=", "x")]),
        ("tag.team in ('a', \"b\")", [C("tag", "team", "IN", ("a", "b"))]),
        ("tags.team NOT IN ('a')", [C("tag", "team", "NOT IN", ("a",))]),
        ("tags.team IS NULL", [C("tag", "team", "IS NULL", None)]),
        ("tags.team is not null", [C("tag", "team", "IS NOT NULL", None)]),
        ("tags.`my key` = 'v'", [C("tag", "my key", "=", "v")]),
        ('tags."my.key" = \'v\'', [C("tag", "my.key", "=", "v")]),
        ("tags.'quoted key' = 'v'", [C("tag", "quoted key", "=", "v")]),
        ("`tags`.`a``b` = 'v'", [C("tag", "a`b", "=", "v")]),
        ("`metrics`.loss.val > 1", [C("metric", "loss.val", ">", 1)]),
        ("params.learning-rate = '1'", [C("param", "learning-rate", "=", "1")]),
        ("metrics.train/loss < 1", [C("metric", "train/loss", "<", 1)]),
        ("attributes.status = 'FAILED'", [C("attribute", "status", "=", "FAILED")]),
        ("attribute.status = 'FAILED'", [C("attribute", "status", "=", "FAILED")]),
        ("attr.status = 'FAILED'", [C("attribute", "status", "=", "FAILED")]),
        ("run.status = 'FAILED'", [C("attribute", "status", "=", "FAILED")]),
        ("status = 'FAILED'", [C("attribute", "status", "=", "FAILED")]),
        ("`run name` = 'x'", [C("attribute", "run name", "=", "x")]),
        ("datasets.name = 'iris'", [C("dataset", "name", "=", "iris")]),
        ("dataset.digest IN ('a', 'b')", [C("dataset", "digest", "IN", ("a", "b"))]),
        ("name = 'it''s'", [C("attribute", "name", "=", "it's")]),
        ('name = "say ""hi"""', [C("attribute", "name", "=", 'say "hi"')]),
        ("name LIKE '100\\%'", [C("attribute", "name", "LIKE", "100\\%")]),
        ("version_number IN (1, 2)", [C("attribute", "version_number", "IN", (1, 2))]),
        (
            "metrics.a > 1 AND params.b = 'x' and tags.c != 'y'  And  status = 'R'",
            [C("metric", "a", ">", 1), C("param", "b", "=", "x"), C("tag", "c", "!=", "y"), C("attribute", "status", "=", "R")],
        ),
        ("", []),
        ("   ", []),
        (None, []),
    ],
)
def test_valid_filters(text, expected):
    assert parse_filter(text) == expected


def test_number_types():
    (c,) = parse_filter("metrics.a = 3")
    assert isinstance(c.value, int)
    (c,) = parse_filter("metrics.a = 3.0")
    assert isinstance(c.value, float)


@pytest.mark.parametrize(
    "text, message",
    [
        ("metrics.a > 1 OR metrics.b > 1", "OR is not supported"),
        ("metrics.a > 1 AND", "expected a column"),
        ("AND metrics.a > 1", "expected a column"),
        ("metrics.a > 1 metrics.b > 1", "expected AND or the end of the filter"),
        ("metrics.a", "expected a comparator"),
        ("metrics.a >", "expected a number or a quoted string"),
        ("metrics.a ~ 1", "unexpected character '~'"),
        ("metrics.a <> 1", "invalid comparator '<>'"),
        ("metrics.a == 1", "invalid comparator '=='"),
        ("tags.a = 'open", "unterminated ' quote"),
        ("tags.`open = 'x'", "unterminated ` quote"),
        ("tags.a = `b`", "expected a number or a quoted string"),
        ("tags.a = unquoted", "expected a number or a quoted string"),
        ("tags.a = ('x')", "a parenthesised list needs IN"),
        ("tags.a IN 'x'", "expected a parenthesised list"),
        ("tags.a IN ()", "the list after IN is empty"),
        ("tags.a IN ('x',)", "expected a quoted string or number in the list"),
        ("tags.a IN ('x' 'y')", "expected ',' or ')'"),
        ("tags.a IN ('x'", "expected ',' or ')'"),
        ("tags.a NOT LIKE 'x'", "NOT LIKE is not supported"),
        ("tags.a NOT = 'x'", "expected IN after NOT"),
        ("tags.a IS 'x'", "expected NULL or NOT NULL"),
        ("foo.bar = 'x'", "invalid entity type 'foo'"),
        ("mlflow.runName = 'x'", "invalid entity type 'mlflow'"),
        ("tags. = 'x'", "expected a key after 'tags.'"),
        ("tags.`` = 'x'", "empty key"),
        ("'status' = 'x'", "expected a column"),
        ("(metrics.a > 1)", "expected a column"),
        ("tags.a = 'x\x00'", "NUL character"),
        ("metrics.a > 1; DROP TABLE x", "unexpected character ';'"),
    ],
)
def test_syntax_errors(text, message):
    with pytest.raises(MlflowError) as caught:
        parse_filter(text)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.message.startswith("Invalid filter")
    assert message in caught.value.message


def test_long_filters_are_not_echoed_whole():
    text = "metrics.a > 1 AND " * 50 + "OR"
    with pytest.raises(MlflowError) as caught:
        parse_filter(text)
    assert len(caught.value.message) < 400 and "..." in caught.value.message


def test_limits():
    many = " AND ".join(f"metrics.m{i} > 0" for i in range(100))
    assert len(parse_filter(many)) == 100
    with pytest.raises(MlflowError, match="at most 100 comparisons"):
        parse_filter(many + " AND metrics.x > 0")
    ids = ", ".join(f"'{i}'" for i in range(10000))
    assert len(parse_filter(f"run_id IN ({ids})")[0].value) == 10000
    with pytest.raises(MlflowError, match="more than 10000 values"):
        parse_filter(f"run_id IN ({ids}, 'one-more')")


def test_huge_numbers_become_floats():
    assert parse_filter("metrics.a < " + "9" * 5000)[0].value == float("inf")
    assert parse_filter("metrics.a < 1e999")[0].value == float("inf")
    assert parse_filter("start_time < 12345678901234567890")[0].value == 12345678901234567890


def test_non_string_filter():
    with pytest.raises(MlflowError, match="must be a string"):
        parse_filter(["metrics.a > 1"])


# ------------------------------------------------------------------ schemas

REGISTRY_LIKE = Schema(
    "model versions",
    attributes={
        "name": Field(STRING, STRING_OPS | LIST_OPS),
        "run_id": Field(STRING, STRING_OPS | LIST_OPS),
        "version_number": Field(NUMBER, NUMERIC_OPS | LIST_OPS, integer=True),
    },
    tag=Field(STRING, STRING_OPS | NULL_OPS),
)


def test_schema_accepts_registry_filters():
    assert parse_filter("name = 'x' AND version_number > 2 AND tags.k = 'v'", REGISTRY_LIKE) == [
        C("attribute", "name", "=", "x"),
        C("attribute", "version_number", ">", 2),
        C("tag", "k", "=", "v"),
    ]
    assert parse_filter("name LIKE '%x%' AND run_id = 'abc'", REGISTRY_LIKE)[0].op == "LIKE"
    assert parse_filter("version_number IN (1, 2)", REGISTRY_LIKE)[0].value == (1, 2)


@pytest.mark.parametrize(
    "text, message",
    [
        ("version_number > 2.5", "expected a whole number for version_number"),
        ("version_number IN (1, 'x')", "expected a numeric value for version_number"),
        ("version_number LIKE '1'", "invalid comparator 'LIKE' for version_number"),
        ("name > 'a'", "invalid comparator '>' for name; expected one of =, !=, LIKE, ILIKE, IN, NOT IN"),
        ("name IN (1)", "expected a quoted string value for name"),
        ("stage = 'x'", "invalid attribute key 'stage'; valid keys are name, run_id, version_number"),
        ("metrics.a > 1", "metrics cannot be searched when searching model versions"),
        ("params.a = '1'", "params cannot be searched"),
        ("datasets.name = 'x'", "datasets cannot be searched"),
        ("tags.k IN ('a')", "invalid comparator 'IN' for tags.k"),
    ],
)
def test_schema_errors(text, message):
    with pytest.raises(MlflowError) as caught:
        parse_filter(text, REGISTRY_LIKE)
    assert caught.value.message.startswith("Invalid filter")
    assert message in caught.value.message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("created > 5", C("attribute", "start_time", ">", 5)),
        ("Created > 5", C("attribute", "start_time", ">", 5)),
        ("`Run Name` = 'x'", C("attribute", "run_name", "=", "x")),
        ("attributes.`run name` = 'x'", C("attribute", "run_name", "=", "x")),
        ("start_time > 1.5", C("attribute", "start_time", ">", 1.5)),
    ],
)
def test_run_schema_aliases(text, expected):
    assert parse_filter(text, RUN_SCHEMA) == [expected]


@pytest.mark.parametrize(
    "text, op",
    [
        ("metrics.a = 1", "="), ("metrics.a != 1", "!="), ("metrics.a > 1", ">"), ("metrics.a >= 1", ">="),
        ("metrics.a < 1", "<"), ("metrics.a <= 1", "<="), ("params.a = 'x'", "="), ("params.a != 'x'", "!="),
        ("params.a LIKE 'x'", "LIKE"), ("params.a ILIKE 'x'", "ILIKE"), ("params.a IN ('x')", "IN"),
        ("params.a NOT IN ('x')", "NOT IN"), ("params.a IS NULL", "IS NULL"), ("params.a IS NOT NULL", "IS NOT NULL"),
        ("tags.a like 'x'", "LIKE"), ("tags.a is null", "IS NULL"), ("status in ('x')", "IN"),
        ("run_id not in ('x')", "NOT IN"), ("end_time IS NULL", "IS NULL"), ("datasets.context ILIKE 'x'", "ILIKE"),
    ],
)
def test_every_operator_the_run_schema_allows(text, op):
    (comparison,) = parse_filter(text, RUN_SCHEMA)
    assert comparison.op == op


@pytest.mark.parametrize(
    "text, message",
    [
        ("metrics.a IS NULL", "invalid comparator 'IS NULL' for metrics.a"),
        ("metrics.a IN (1)", "invalid comparator 'IN' for metrics.a"),
        ("start_time LIKE '1'", "invalid comparator 'LIKE' for start_time"),
        ("status IS NULL", "invalid comparator 'IS NULL' for status"),
        ("status > 'x'", "invalid comparator '>' for status"),
        ("datasets.context > 'x'", "invalid comparator '>' for datasets.context"),
    ],
)
def test_run_schema_rejects_operators_mlflow_rejects(text, message):
    with pytest.raises(MlflowError) as caught:
        parse_filter(text, RUN_SCHEMA)
    assert message in caught.value.message


# ------------------------------------------------------------------ order_by

ATTRS = {"start_time", "end_time", "run_name"}


@pytest.mark.parametrize(
    "clauses, expected",
    [
        (["metrics.x DESC"], [OrderBy("metric", "x", False)]),
        (["params.`a b` ASC"], [OrderBy("param", "a b", True)]),
        (["attributes.start_time"], [OrderBy("attribute", "start_time", True)]),
        (["start_time desc"], [OrderBy("attribute", "start_time", False)]),
        (["tags.t"], [OrderBy("tag", "t", True)]),
        (["tags.mlflow.runName DESC", "metrics.`val loss`"], [OrderBy("tag", "mlflow.runName", False), OrderBy("metric", "val loss", True)]),
        ('metric."m" asc', [OrderBy("metric", "m", True)]),
        ([], []),
        (None, []),
    ],
)
def test_order_by(clauses, expected):
    assert parse_order_by(clauses, ATTRS) == expected


def test_order_by_aliases_and_kinds():
    assert parse_order_by(["created DESC"], ATTRS, aliases={"created": "start_time"}) == [OrderBy("attribute", "start_time", False)]
    with pytest.raises(MlflowError, match="cannot order by metrics"):
        parse_order_by(["metrics.a"], ATTRS, kinds=("attribute",))


@pytest.mark.parametrize(
    "clauses, message",
    [
        (["metrics.x DESC", "metrics.x ASC"], "duplicate"),
        (["created", "start_time"], "invalid attribute key 'created'"),
        (["metrics.x DOWN"], "expected ASC, DESC"),
        (["metrics.x DESC extra"], "expected ASC, DESC or the end"),
        (["datasets.name"], "cannot order by datasets"),
        (["lifecycle_stage"], "invalid attribute key 'lifecycle_stage'"),
        ([""], "expected '<column> [ASC|DESC]'"),
        ([None], "expected '<column> [ASC|DESC]'"),
        (["metrics.x, metrics.y"], "expected ASC, DESC or the end of the clause, found ','"),
        (["foo.x"], "invalid entity type 'foo'"),
    ],
)
def test_order_by_errors(clauses, message):
    with pytest.raises(MlflowError) as caught:
        parse_order_by(clauses, ATTRS)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.message.startswith("Invalid order_by")
    assert message in caught.value.message


def test_tokenizer_positions():
    tokens = tokenize("tags.`a b` = 'x'")
    assert [(t.type, t.text, t.pos) for t in tokens] == [
        ("word", "tags.", 0),
        ("quoted", "a b", 5),
        ("operator", "=", 11),
        ("quoted", "x", 13),
        ("end", "", 16),
    ]
