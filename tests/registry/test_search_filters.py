"""The registry's filters through the shared grammar: what the registry schemas accept and refuse."""

import pytest

from experiments.errors import MlflowError
from experiments.search.grammar import Comparison
from registry.search import model_sort_keys, parse_model_filter, parse_version_filter, version_sort_keys


def test_clauses_identifiers_and_values():
    assert parse_version_filter("") == [] and parse_version_filter(None) == [] and parse_version_filter("   ") == []
    assert parse_model_filter("name = 'iris'") == [Comparison("attribute", "name", "=", "iris")]
    assert parse_model_filter("attribute.name != \"a\"\"b\"") == [Comparison("attribute", "name", "!=", 'a"b')]
    assert parse_model_filter("tags.`mlflow.prompt.is_prompt` = 'true' and name like 'x%'") == [
        Comparison("tag", "mlflow.prompt.is_prompt", "=", "true"),
        Comparison("attribute", "name", "LIKE", "x%"),
    ]
    assert parse_model_filter('tag."my key" ILIKE \'%v\'') == [Comparison("tag", "my key", "ILIKE", "%v")]
    assert parse_model_filter("tags.a.b = 'it''s'") == [Comparison("tag", "a.b", "=", "it's")]
    assert parse_version_filter("version_number >= 2 AND version_number != 3") == [
        Comparison("attribute", "version_number", ">=", 2),
        Comparison("attribute", "version_number", "!=", 3),
    ]
    assert parse_version_filter("run_id IN ('a', 'b') AND name NOT IN ('c')") == [
        Comparison("attribute", "run_id", "IN", ("a", "b")),
        Comparison("attribute", "name", "NOT IN", ("c",)),
    ]
    assert parse_version_filter("source_path LIKE 'models:/%'") == [
        Comparison("attribute", "source_path", "LIKE", "models:/%")
    ]


def test_a_quoted_version_number_is_a_number_as_in_mlflow():
    assert parse_version_filter("version_number = '3'") == [Comparison("attribute", "version_number", "=", 3)]
    assert parse_version_filter("attribute.version_number > ' 2 '")[0].value == 2


@pytest.mark.parametrize(
    "text",
    [
        "name = 'a' OR name = 'b'",
        "name = 'a'; DROP TABLE registry_registeredmodel",
        "name = 'a' -- comment",
        "name = (SELECT 1)",
        "name =",
        "= 'a'",
        "name 'a'",
        "name = 'unterminated",
        "name = 'a' AND",
        "params.x = '1'",
        "metrics.x > 1",
        "name IN ()",
        "name IN ('a' 'b')",
        "name = 'a' name = 'b'",
        "name = 'a' AND AND name = 'b'",
        "name <> 'a'",
        "name > 'a'",
        "name = 1",
        "tags.team IN ('a')",
        "tags.team = 1",
        "tags.team IS NULL",
        "version_number = 1",
        "creation_timestamp > 0",
        "x" * 10_001,
    ],
)
def test_bad_model_filters_are_invalid_parameter_value(text):
    with pytest.raises(MlflowError) as exc:
        parse_model_filter(text)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    assert exc.value.message.startswith("Invalid filter")


@pytest.mark.parametrize(
    "text",
    [
        "version_number = 'x'",
        "version_number = 1.5",
        "version_number = 2.0",
        "version_number LIKE '1'",
        "version_number IN (1, 2)",
        "source_path IN ('a')",
        "run_id IS NULL",
        "current_stage = 'None'",
        "datasets.name = 'x'",
        "name = 'a' OR name = 'b'",
    ],
)
def test_bad_version_filters_are_invalid_parameter_value(text):
    with pytest.raises(MlflowError) as exc:
        parse_version_filter(text)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"


def test_orderings_are_completed_into_total_orders():
    assert [(k.name, k.ascending) for k in model_sort_keys(["timestamp DESC"])] == [
        ("_sort_last_updated_timestamp", False),
        ("_sort_name", True),
    ]
    assert [(k.name, k.ascending) for k in version_sort_keys(None)] == [
        ("_sort_last_updated_timestamp", False),
        ("_sort_name", True),
        ("_sort_version_number", False),
    ]
    assert [(k.name, k.ascending) for k in version_sort_keys(["attribute.version_number ASC"])] == [
        ("_sort_version_number", True),
        ("_sort_name", True),
    ]


@pytest.mark.parametrize(
    "order_by",
    [["bogus"], ["name SIDEWAYS"], ["name", "name DESC"], ["timestamp", "last_updated_timestamp"], ["tags.k"], ["name ASC x"]],
)
def test_bad_model_orderings_are_invalid_parameter_value(order_by):
    with pytest.raises(MlflowError) as exc:
        model_sort_keys(order_by)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
