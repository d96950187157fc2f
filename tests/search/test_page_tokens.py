"""Signed page tokens (round trip, tampering, foreign tokens) and the keyset condition."""

import base64
import json

import pytest
from django.core import signing
from django.db.models import Q

from experiments.errors import MlflowError
from experiments.search import page_tokens
from experiments.search.page_tokens import SortKey, after, decode, encode
from experiments.search.sql import glob_pattern, like_pattern

CONTEXT = {"filter": "metrics.a > 1", "order_by": [["metric", "a", False]], "workspace": 1}


def test_round_trip_keeps_types():
    values = [0, 1.5, float("inf"), -3, "run'id", "", 2**62]
    token = encode("runs", values, CONTEXT)
    assert isinstance(token, str) and "run'id" not in token  # compressed, not readable text
    assert decode("runs", token, CONTEXT, len(values)) == values


def test_token_is_opaque_and_url_safe():
    token = encode("runs", ["abc", 12], CONTEXT)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:.")


def _refused(entity, token, context=CONTEXT, count=2):
    with pytest.raises(MlflowError) as caught:
        decode(entity, token, context, count)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.message == "Invalid page token"


def test_tampered_tokens_are_refused():
    token = encode("runs", [5, "abc"], CONTEXT)
    payload, _, signature = token.rpartition(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    _refused("runs", f"{payload}:{flipped}")
    _refused("runs", token[1:])
    _refused("runs", token + "x")


def test_forged_payload_without_the_key_is_refused():
    body = base64.urlsafe_b64encode(json.dumps({"v": 1, "q": "x", "k": [1, "a"]}).encode()).decode().rstrip("=")
    _refused("runs", f"{body}:forgedsignature")
    # and an MLflow-style offset token
    _refused("runs", base64.b64encode(b'{"offset": 100}').decode())


def test_token_of_another_entity_or_query_is_refused():
    token = encode("runs", [5, "abc"], CONTEXT)
    _refused("experiments", token)
    _refused("runs", token, context={**CONTEXT, "filter": "metrics.a > 2"})
    _refused("runs", token, count=3)


def test_signed_garbage_is_refused():
    salt = "warden.search.runs.page-token"
    _refused("runs", signing.dumps(["not", "a", "dict"], salt=salt))
    _refused("runs", signing.dumps({"v": 99, "q": page_tokens.fingerprint(CONTEXT), "k": [1, 2]}, salt=salt))
    _refused("runs", signing.dumps({"v": 1, "q": page_tokens.fingerprint(CONTEXT), "k": "12"}, salt=salt))


@pytest.mark.parametrize("junk", ["", "   ", ":", "a:b:c", "x" * 9000, 12, None, ["t"]])
def test_junk_is_refused(junk):
    # paginate() treats an empty token as "first page"; decode() itself accepts only real tokens
    _refused("runs", junk)


def test_fingerprint_is_order_insensitive_for_dict_keys_only():
    assert page_tokens.fingerprint({"a": 1, "b": [1, 2]}) == page_tokens.fingerprint({"b": [1, 2], "a": 1})
    assert page_tokens.fingerprint({"a": 1, "b": [1, 2]}) != page_tokens.fingerprint({"a": 1, "b": [2, 1]})


def test_after_builds_a_lexicographic_condition():
    keys = [SortKey("start_time", None, False), SortKey("run_uuid", None, True)]
    condition = after(keys, [10, "abc"])
    expected = Q(start_time__lt=10) | (Q(start_time=10) & Q(run_uuid__gt="abc"))
    assert condition == expected


@pytest.mark.parametrize(
    "pattern, like, glob",
    [
        ("abc", "abc", "abc"),
        ("a%c", "a%c", "a*c"),
        ("a_c", "a_c", "a?c"),
        ("100\\%", "100\\%", "100%"),
        ("under\\_score", "under\\_score", "under_score"),
        ("star*and?[x]", "star*and?[x]", "star[*]and[?][[]x]"),
        ("trailing\\", "trailing\\\\", "trailing\\"),
        ("back\\\\slash", "back\\\\slash", "back\\slash"),
    ],
)
def test_like_patterns(pattern, like, glob):
    assert like_pattern(pattern) == like
    assert glob_pattern(pattern) == glob
