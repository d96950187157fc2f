"""API tokens on the wire: Bearer and Basic, never the query string; expiry, revocation,
inactive owners, digest-only storage and the throttled last-used stamp."""

import base64
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services, tokens
from accounts.authentication import InvalidCredentials, authenticate_request, authenticate_token
from accounts.models import ApiToken
from experiments.models import Experiment, Run
from tests.protocol.expect import expect_unauthenticated, ok

SEARCH = "/api/2.0/mlflow/experiments/search"
CREATE = "/api/2.0/mlflow/experiments/create"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def search(client, authorization=None, **extra):
    if authorization is not None:
        extra["HTTP_AUTHORIZATION"] = authorization
    return client.get(SEARCH, **extra)


def create_experiment(client, name, authorization=None, path=CREATE):
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return client.post(path, json.dumps({"name": name}), content_type="application/json", **extra)


# ------------------------------------------------------------------ accepted forms


def test_bearer_token_authenticates(client, member, make_token):
    body = ok(search(client, f"Bearer {make_token(member)}"))
    assert [e["name"] for e in body["experiments"]] == ["Default"]


def test_bearer_scheme_is_case_insensitive(client, member, make_token):
    ok(search(client, f"bearer {make_token(member)}"))


@pytest.mark.parametrize("username", ["mia", "anyone-at-all", ""])
def test_basic_with_token_as_password_authenticates_whatever_the_user_name(client, member, make_token, username):
    ok(search(client, basic(username, make_token(member))))


def test_basic_user_name_cannot_impersonate_another_user(client, member, make_user, workspace, make_token):
    make_user("mallory", workspace)
    response = client.post(
        "/api/2.0/mlflow/runs/create",
        json.dumps({"experiment_id": "0"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic("mallory", make_token(member)),
    )
    run_id = ok(response)["run"]["info"]["run_id"]
    run = Run.objects.get(run_uuid=run_id)
    assert (run.user_id, run.created_by_id) == ("mia", member.pk)


# ------------------------------------------------------------------ refused forms


@pytest.mark.parametrize("name", ["token", "access_token"])
def test_token_in_query_string_is_never_accepted(client, member, make_token, name):
    token = make_token(member)
    expect_unauthenticated(client.get(SEARCH, {name: token}))
    response = client.post(f"{CREATE}?{name}={token}", json.dumps({"name": "sneaky"}), content_type="application/json")
    expect_unauthenticated(response)
    assert not Experiment.objects.filter(name="sneaky").exists()


def test_no_credentials_is_401_json(client, workspace):
    body = expect_unauthenticated(search(client))
    assert "token" in body["message"].lower()
    expect_unauthenticated(create_experiment(client, "anon"))
    assert not Experiment.objects.filter(name="anon").exists()


MALFORMED = [
    "Bearer",
    "Bearer ",
    "Bearer garbage",
    "Bearer wdn_",
    "Bearer wdn_abc_def",
    "Bearer xyz_0123456789ab_secret",
    "Bearer wdn_0123456789ab_",
    "Bearer wdn_0123456789a\x00_secret",
    "Bearer wdn_0123456789aé_secret",
    "Token wdn_0123456789ab_secret",
    "Digest username=x",
    "Basic",
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    "Basic é",
    "Basic " + base64.b64encode(b"user:").decode(),
]


@pytest.mark.parametrize("authorization", MALFORMED)
def test_malformed_credentials_are_401(client, member, authorization):
    expect_unauthenticated(search(client, authorization))


def test_unknown_token_is_401(client, member, make_token):
    make_token(member)
    unknown, _, _ = tokens.generate()
    expect_unauthenticated(search(client, f"Bearer {unknown}"))
    expect_unauthenticated(search(client, basic("mia", unknown)))


def test_wrong_secret_for_a_real_prefix_is_401_and_not_echoed(client, member, make_token):
    token = make_token(member)
    prefix, secret = tokens.split(token)
    forged = f"wdn_{prefix}_{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"
    body = expect_unauthenticated(search(client, f"Bearer {forged}"))
    assert forged not in body["message"] and secret[:8] not in body["message"]
    ok(search(client, f"Bearer {token}"))


def test_expired_token_is_401(client, member, make_token):
    expired = make_token(member, expires_at=timezone.now() - timedelta(seconds=1))
    expect_unauthenticated(search(client, f"Bearer {expired}"))
    expect_unauthenticated(search(client, basic("mia", expired)))
    current = make_token(member, expires_at=timezone.now() + timedelta(hours=1))
    ok(search(client, f"Bearer {current}"))


def test_revoked_token_is_refused_on_the_very_next_request(client, member, make_token, token_row):
    token = make_token(member)
    ok(search(client, f"Bearer {token}"))
    services.token_revoke(actor=member, token=token_row(token))
    expect_unauthenticated(search(client, f"Bearer {token}"))
    expect_unauthenticated(create_experiment(client, "after-revoke", f"Bearer {token}"))
    assert not Experiment.objects.filter(name="after-revoke").exists()


def test_revoking_one_token_leaves_the_others_working(client, member, make_token, token_row):
    first, second = make_token(member, name="a"), make_token(member, name="b")
    services.token_revoke(actor=member, token=token_row(first))
    expect_unauthenticated(search(client, f"Bearer {first}"))
    ok(search(client, f"Bearer {second}"))


def test_revoke_is_idempotent_and_keeps_the_first_revocation_time(member, make_token, token_row):
    row = token_row(make_token(member))
    first = services.token_revoke(actor=member, token=row).revoked_at
    again = services.token_revoke(actor=member, token=ApiToken.objects.get(pk=row.pk)).revoked_at
    assert first is not None and again == first


def test_inactive_user_tokens_stop_working(client, member, make_token):
    token = make_token(member)
    ok(search(client, f"Bearer {token}"))
    member.is_active = False
    member.save(update_fields=["is_active"])
    expect_unauthenticated(search(client, f"Bearer {token}"))
    expect_unauthenticated(search(client, basic("mia", token)))


# ------------------------------------------------------------------ storage


def test_only_the_digest_is_stored(member):
    row, plaintext = services.token_create(actor=member, user=member, name="ci")
    prefix, secret = tokens.split(plaintext)
    assert row.prefix == prefix
    assert row.digest == tokens.digest_of(secret) and len(row.digest) == 64
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken WHERE id = %s", [row.pk])
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert secret not in stored
    assert plaintext not in stored


def test_tokens_are_unique_and_well_formed(member):
    plaintexts = {services.token_create(actor=None, user=member, name=f"t{i}")[1] for i in range(5)}
    assert len(plaintexts) == 5
    for plaintext in plaintexts:
        prefix, secret = tokens.split(plaintext)
        assert plaintext.startswith("wdn_") and len(prefix) == 12 and len(secret) >= 43


# ------------------------------------------------------------------ last-used stamp


def _request_with(token):
    return RequestFactory().get(SEARCH, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_last_used_at_is_written_once_per_resolution_window(member, make_token, token_row, settings, django_assert_num_queries):
    settings.WARDEN_TOKEN_LAST_USED_RESOLUTION = 60
    token = make_token(member)
    assert token_row(token).last_used_at is None

    before = timezone.now()
    with django_assert_num_queries(2):  # find the token and its owner; stamp last use
        principal = authenticate_request(_request_with(token))
    assert principal.user == member and principal.auth_method == "token"
    stamped = token_row(token).last_used_at
    assert stamped is not None and stamped >= before

    for _ in range(3):
        with django_assert_num_queries(1):  # inside the window: read only
            authenticate_request(_request_with(token))
    assert token_row(token).last_used_at == stamped

    ApiToken.objects.filter(prefix=tokens.split(token)[0]).update(last_used_at=stamped - timedelta(seconds=61))
    with django_assert_num_queries(2):  # the window has passed: stamp again
        authenticate_request(_request_with(token))
    assert token_row(token).last_used_at >= stamped


def test_refused_tokens_never_touch_last_used_at(member, make_token, token_row, django_assert_num_queries):
    token = make_token(member, expires_at=timezone.now() - timedelta(seconds=1))
    prefix, secret = tokens.split(token)
    for raw in (token, f"wdn_{prefix}_wrong-{secret}"):
        with django_assert_num_queries(2) as captured:  # the lookup, then the auth.token_rejected event
            with pytest.raises(InvalidCredentials):
                authenticate_token(raw, "token")
        assert captured.captured_queries[1]["sql"].startswith('INSERT INTO "audit_auditevent"')
    assert token_row(token).last_used_at is None


def _token_updates(captured) -> int:
    return sum(
        1 for query in captured if query["sql"].lstrip().upper().startswith("UPDATE") and "accounts_apitoken" in query["sql"]
    )


def test_last_used_at_over_the_wire(client, member, make_token, token_row):
    token = make_token(member)
    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            ok(search(client, f"Bearer {token}"))
        counts.append((len(captured.captured_queries), _token_updates(captured.captured_queries)))
    assert [updates for _, updates in counts] == [1, 0, 0]
    # the only difference between the first request and the next ones is the stamp
    assert counts[0][0] - counts[1][0] == 1 and counts[1][0] == counts[2][0]
    assert token_row(token).last_used_at is not None
