"""The local sign-in form: on and off, audit events, session rotation, rate limiting."""

import itertools
import uuid

import pytest

from accounts.models import User
from audit.models import AuditEvent

_addresses = itertools.count(1)


@pytest.fixture(autouse=True)
def quick_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def new_address() -> str:
    return f"10.{next(_addresses) % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


@pytest.fixture
def address():
    """A client address of its own per test: the failure counters live in the shared cache."""
    return new_address()


@pytest.fixture
def admin(db):
    return User.objects.create_user(f"root-{uuid.uuid4().hex[:8]}", password="correct horse battery", is_superuser=True)


def post(client, address, username, password, **extra):
    return client.post("/signin", {"username": username, "password": password, **extra}, REMOTE_ADDR=address)


def test_sign_in_with_a_password_rotates_the_session_and_is_audited(client, admin, address):
    client.get("/signin")
    client.session.save()
    anonymous_key = client.session.session_key
    response = post(client, address, admin.username, "correct horse battery", next="/tokens")
    assert response.status_code == 302 and response["Location"] == "/tokens"
    assert client.session.session_key != anonymous_key
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor_id, event.auth_method, event.source_ip) == (admin.pk, "password", address)


def test_a_wrong_password_is_refused_and_audited_without_the_password(client, admin, address):
    response = post(client, address, admin.username, "wrong guess 123")
    assert response.status_code == 401 and "Wrong user name or password" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert (event.actor_name, event.outcome, event.changes["reason"]) == (admin.username, "denied", "bad_password")
    assert "wrong guess" not in str(AuditEvent.objects.values())
    assert client.get("/").status_code == 302


def test_external_next_is_ignored(client, admin, address):
    response = post(client, address, admin.username, "correct horse battery", next="https://evil.example/")
    assert response["Location"] == "/"


def test_anonymous_pages_redirect_to_sign_in(client, db):
    response = client.get("/tokens")
    assert response.status_code == 302 and response["Location"] == "/signin?next=/tokens"
    assert client.get("/")["Location"] == "/signin?next=/"


def test_local_login_can_be_switched_off(client, settings, admin, address):
    settings.WARDEN_LOCAL_LOGIN = False
    page = client.get("/signin").content.decode()
    assert 'id="local-signin"' not in page
    response = post(client, address, admin.username, "correct horse battery")
    assert response.status_code == 403 and client.get("/").status_code == 302
    settings.WARDEN_LOCAL_LOGIN = True
    assert 'id="local-signin"' in client.get("/signin").content.decode()


def test_service_accounts_cannot_sign_in(client, address, db):
    robot = User.objects.create_user(f"robot-{uuid.uuid4().hex[:8]}", password="correct horse battery", is_service_account=True)
    assert post(client, address, robot.username, "correct horse battery").status_code == 401


def test_failed_logins_are_rate_limited_per_user_name(client, settings, admin, address):
    settings.WARDEN_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert post(client, address, admin.username, "nope").status_code == 401
    locked = post(client, address, admin.username, "correct horse battery")  # even the right password
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= settings.WARDEN_LOGIN_LOCKOUT_SECONDS
    assert "Too many failed sign-ins" in locked.content.decode()
    other = User.objects.create_user(f"other-{uuid.uuid4().hex[:8]}", password="correct horse battery")
    assert post(client, address, other.username, "correct horse battery").status_code == 302  # others are not locked out
    limited = AuditEvent.objects.get(action="auth.login_rate_limited")
    assert (limited.actor_name, limited.changes["scope"]) == (admin.username, "user")
    reasons = list(AuditEvent.objects.filter(action="auth.login_failed").values_list("changes__reason", flat=True))
    assert reasons == ["bad_password"] * 3 + ["rate_limited"]


def test_failed_logins_are_rate_limited_per_address(client, settings, admin, address):
    elsewhere = new_address()
    settings.WARDEN_LOGIN_MAX_FAILURES = 2  # 8 per address
    for n in range(8):
        post(client, address, f"guess-{uuid.uuid4().hex[:6]}", "nope")
    assert post(client, address, admin.username, "correct horse battery").status_code == 429
    assert post(client, elsewhere, admin.username, "correct horse battery").status_code == 302
    assert AuditEvent.objects.filter(action="auth.login_rate_limited", changes__scope="ip").count() == 1


def test_a_right_password_clears_the_user_count(client, settings, admin, address):
    settings.WARDEN_LOGIN_MAX_FAILURES = 3
    post(client, address, admin.username, "nope")
    post(client, address, admin.username, "nope")
    assert post(client, address, admin.username, "correct horse battery").status_code == 302
    client.logout()
    post(client, address, admin.username, "nope")
    post(client, address, admin.username, "nope")
    assert post(client, address, admin.username, "correct horse battery").status_code == 302


def test_sign_out_needs_a_post_and_is_audited(client, admin, address):
    post(client, address, admin.username, "correct horse battery")
    assert client.get("/signout").status_code == 405
    response = client.post("/signout")
    assert response.status_code == 302 and response["Location"] == "/signin"
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.logout", auth_method="password", actor=admin).exists()
