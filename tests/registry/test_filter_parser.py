"""The registry's filter parser: MLflow's AND-only clauses into Comparison(kind, key, op, value)."""

import pytest

from experiments.errors import MlflowError
from registry.filter_parser import Comparison, parse


def test_clauses_identifiers_and_values():
    assert parse("") == [] and parse(None) == [] and parse("   ") == []
    assert parse("name = 'iris'") == [Comparison("attribute", "name", "=", "iris")]
    assert parse("attribute.name != \"a\"\"b\"") == [Comparison("attribute", "name", "!=", 'a"b')]
    assert parse("tags.`mlflow.prompt.is_prompt` = 'true' and name like 'x%'") == [
        Comparison("tag", "mlflow.prompt.is_prompt", "=", "true"),
        Comparison("attribute", "name", "LIKE", "x%"),
    ]
    assert parse('tag."my key" ILIKE \'%v\'') == [Comparison("tag", "my key", "ILIKE", "%v")]
    assert parse("tags.a.b = 'it''s'") == [Comparison("tag", "a.b", "=", "it's")]
    assert parse("version_number >= 2 AND version_number <> 3") == [
        Comparison("attribute", "version_number", ">=", 2),
        Comparison("attribute", "version_number", "!=", 3),
    ]
    assert parse("version_number = 1.5")[0].value == 1.5
    assert parse("run_id IN ('a', 'b') AND name NOT IN ('c')") == [
        Comparison("attribute", "run_id", "IN", ("a", "b")),
        Comparison("attribute", "name", "NOT IN", ("c",)),
    ]


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
        "name IN ()",
        "name IN ('a' 'b')",
        "name = 'a' name = 'b'",
        "name = 'a' AND AND name = 'b'",
        "x" * 10_001,
    ],
)
def test_malformed_filters_are_invalid_parameter_value(text):
    with pytest.raises(MlflowError) as exc:
        parse(text)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
