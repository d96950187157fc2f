"""Sign-in through a real OpenID provider (devidp on loopback) into a live Warden."""

import json
from urllib.parse import urljoin, urlparse

import pytest

from accounts.models import OidcIdentity, User
from audit.models import AuditEvent
from tests.idp import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_scripted_login_provisions_a_user_with_no_access(sso, idp, browser_session):
    browser_session.get(f"{sso}/oidc/authenticate/")  # the anonymous session that holds the state
    before = browser_session.cookies.get("sessionid")
    response = sign_in(browser_session, sso, "alice", "alice-pass")
    assert response.status_code == 200, response.text[:500]
    assert urlparse(response.url).path == "/"
    assert "Hello, Alice Liddell" in response.text
    assert 'id="no-workspaces"' in response.text  # provisioned with no workspace and no permission
    chain = [urlparse(r.url) for r in response.history]
    assert [u.path for u in chain][-2:] == ["/o/authorize/", "/oidc/callback/"]

    identity = OidcIdentity.objects.select_related("user").get()
    assert (identity.issuer, identity.user.username, identity.email) == (idp.issuer, "alice", "alice@example.org")
    assert identity.subject and identity.subject != "alice"
    assert not identity.user.has_usable_password() and not identity.user.memberships.exists()
    assert before and browser_session.cookies.get("sessionid") not in (None, before)  # rotated at login
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "auth_method", "actor_name"))
    assert ("user.provisioned", "oidc", "alice") in actions and ("auth.login", "oidc", "alice") in actions


def test_a_second_login_finds_the_same_identity(sso, browser_session, live_server):
    sign_in(browser_session, sso, "alice", "alice-pass")
    browser_session.cookies.clear()
    response = sign_in(browser_session, sso, "alice", "alice-pass")
    assert response.status_code == 200
    assert User.objects.filter(username__startswith="alice").count() == 1
    assert OidcIdentity.objects.count() == 1


@pytest.fixture
def acme(db):
    from accounts import services

    return services.workspace_create(actor=None, slug="acme", name="Acme")


def _teams(user):
    return sorted(user.groups.filter(team__isnull=False).values_list("team__name", flat=True))


def _text(changes: dict) -> str:
    return json.dumps(changes, sort_keys=True)


def _sync_events(since: int) -> set:
    """The membership and team events of the sync since event ``since``: each is the system's,
    caused by the sync of alice's sign-in, and recorded once."""
    events = list(AuditEvent.objects.filter(pk__gt=since, action__regex=r"^(membership|team)\.").order_by("id"))
    assert {(e.actor_kind, e.actor_name, e.changes["cause"]["by"], e.changes["cause"]["user"]) for e in events} <= {
        ("system", "warden", "idp_group_sync", "alice")
    }
    assert all(e.request_id for e in events)  # in the sign-in's request
    seen = [(e.action, e.target_name, _text({k: v for k, v in e.changes.items() if k != "cause"})) for e in events]
    assert len(seen) == len(set(seen))
    return set(seen)


def _last_event() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_group_rules_apply_on_first_and_later_logins(sso, idp, browser_session, acme):
    from accounts import services
    from accounts.models import Membership, Role
    from accounts.sso import mappings

    science = services.team_create(actor=None, workspace=acme, name="Science")
    platform = services.team_create(actor=None, workspace=acme, name="Platform")
    mappings.group_mapping_create(actor=None, workspace=acme, group="data-science", role=Role.MEMBER, team=science)
    mappings.group_mapping_create(actor=None, workspace=acme, group="ml-platform", role=Role.MAINTAINER, team=platform)
    mappings.group_mapping_create(actor=None, workspace=acme, group="auditors", role=Role.VIEWER)

    mark = _last_event()
    response = sign_in(browser_session, sso, "alice", "alice-pass")
    assert 'id="workspaces"' in response.text and "maintainer" in response.text
    alice = User.objects.get(username="alice")
    membership = Membership.objects.get(user=alice, workspace=acme)
    assert membership.role == Role.MAINTAINER and hasattr(membership, "synced")
    assert _teams(alice) == ["Platform", "Science"]
    assert alice.default_workspace_id == acme.pk
    assert _sync_events(mark) == {
        ("membership.added", "alice", _text({"after": {"role": "maintainer"}})),
        ("team.member_added", "Platform", _text({"after": {"member": "alice"}})),
        ("team.member_added", "Science", _text({"after": {"member": "alice"}})),
    }
    first = AuditEvent.objects.get(action="membership.added", target_name="alice")
    assert first.workspace_id == acme.pk and first.changes["cause"]["groups"] == ["data-science", "ml-platform"]

    idp.user("alice", "--groups", "data-science,unmapped")  # left ml-platform at the provider
    browser_session.cookies.clear()
    mark = _last_event()
    sign_in(browser_session, sso, "alice", "alice-pass")
    assert Membership.objects.get(user=alice, workspace=acme).role == Role.MEMBER
    assert _teams(alice) == ["Science"]
    assert _sync_events(mark) == {
        ("membership.role_changed", "alice", _text({"before": {"role": "maintainer"}, "after": {"role": "member"}})),
        ("team.member_removed", "Platform", _text({"before": {"member": "alice"}})),
    }

    idp.user("alice", "--groups", "")  # no mapped group left: the synced membership ends
    browser_session.cookies.clear()
    mark = _last_event()
    sign_in(browser_session, sso, "alice", "alice-pass")
    assert not Membership.objects.filter(user=alice, workspace=acme).exists() and _teams(alice) == []
    # Leaving the workspace takes its teams with it: one event, not a second for Science.
    assert _sync_events(mark) == {("membership.removed", "alice", _text({"before": {"role": "member"}}))}

    browser_session.cookies.clear()
    mark = _last_event()
    sign_in(browser_session, sso, "alice", "alice-pass")  # nothing changed at the provider: nothing recorded
    assert _sync_events(mark) == set()


def test_an_admin_made_membership_is_raised_by_rules_but_never_lowered(sso, idp, browser_session, acme):
    from accounts import services
    from accounts.models import Membership, Role
    from accounts.sso import mappings

    sign_in(browser_session, sso, "alice", "alice-pass")
    alice = User.objects.get(username="alice")
    services.membership_set(actor=None, workspace=acme, user=alice, role=Role.ADMIN)
    mappings.group_mapping_create(actor=None, workspace=acme, group="data-science", role=Role.VIEWER)
    browser_session.cookies.clear()
    sign_in(browser_session, sso, "alice", "alice-pass")
    assert Membership.objects.get(user=alice, workspace=acme).role == Role.ADMIN


def test_unverified_email_is_not_linked_to_an_existing_account(sso, settings, browser_session):
    settings.WARDEN_OIDC_LINK_VERIFIED_EMAIL = True
    existing = User.objects.create_user("bob", email="bob@example.org", password="local-secret-pw")
    response = sign_in(browser_session, sso, "bob", "bob-pass")  # bob's e-mail is unverified at the provider
    assert response.status_code == 200
    identity = OidcIdentity.objects.select_related("user").get()
    assert identity.user != existing and identity.user.username.startswith("bob-") and identity.user.email == ""
    assert not AuditEvent.objects.filter(action="identity.linked").exists()


def test_unverified_email_of_an_existing_account_is_refused_when_provisioning_is_off(sso, settings, browser_session):
    settings.WARDEN_OIDC_LINK_VERIFIED_EMAIL = True
    settings.WARDEN_OIDC_PROVISIONING = "refuse"
    User.objects.create_user("bob", email="bob@example.org")
    response = sign_in(browser_session, sso, "bob", "bob-pass")
    assert response.status_code == 403 and "not verified" in response.text
    assert not OidcIdentity.objects.exists()
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert (event.changes["reason"], event.outcome) == ("unverified_email", "denied")


def test_verified_email_links_when_enabled(sso, settings, browser_session):
    settings.WARDEN_OIDC_LINK_VERIFIED_EMAIL = True
    existing = User.objects.create_user("alice.local", email="Alice@Example.org")
    sign_in(browser_session, sso, "alice", "alice-pass")
    assert OidcIdentity.objects.get().user == existing
    assert AuditEvent.objects.filter(action="identity.linked", actor=existing).exists()
    assert not AuditEvent.objects.filter(action="user.provisioned").exists()


def test_verified_email_is_not_linked_when_linking_is_off(sso, browser_session):
    existing = User.objects.create_user("alice.local", email="alice@example.org")
    sign_in(browser_session, sso, "alice", "alice-pass")
    assert OidcIdentity.objects.get().user != existing


def test_unknown_users_are_refused_when_provisioning_is_off(sso, settings, browser_session):
    settings.WARDEN_OIDC_PROVISIONING = "refuse"
    response = sign_in(browser_session, sso, "alice", "alice-pass")
    assert response.status_code == 403 and "not known to Warden" in response.text
    assert not User.objects.exists()
    assert AuditEvent.objects.get(action="auth.login_failed").changes == {"reason": "unknown_user"}
    assert browser_session.get(f"{sso}/tokens", allow_redirects=False).status_code == 302


def _callback_url(browser_session, sso, username="alice"):
    """Sign in at the provider but stop before Warden's callback; return the callback URL."""
    import re

    page = browser_session.get(f"{sso}/oidc/authenticate/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    nxt = re.search(r'name="next" value="([^"]*)"', page.text).group(1).replace("&amp;", "&")
    response = browser_session.post(
        page.url, data={"csrfmiddlewaretoken": token, "username": username, "password": f"{username}-pass", "next": nxt},
        headers={"Referer": page.url}, allow_redirects=False,
    )
    assert response.status_code == 302, (response.status_code, response.text[:2000])
    while "/oidc/callback/" not in response.headers["Location"]:
        response = browser_session.get(urljoin(response.url, response.headers["Location"]), allow_redirects=False)
    return response.headers["Location"]


def test_a_replayed_callback_is_a_friendly_400(sso, browser_session):
    callback = _callback_url(browser_session, sso)
    first = browser_session.get(callback)
    assert first.status_code == 200 and urlparse(first.url).path == "/"
    browser_session.cookies.clear()
    replay = browser_session.get(callback)
    assert replay.status_code == 400
    assert "not valid any more" in replay.text and "<html" in replay.text
    again = browser_session.get(callback)  # also with the signed-in session of the first use
    assert again.status_code == 400
    assert AuditEvent.objects.filter(action="auth.login_failed", changes__reason="bad_state").count() == 2


def test_a_forged_state_or_a_provider_error_is_a_400(sso, browser_session):
    from urllib.parse import parse_qs

    start = browser_session.get(f"{sso}/oidc/authenticate/", allow_redirects=False)  # one real pending state
    state = parse_qs(urlparse(start.headers["Location"]).query)["state"][0]
    assert browser_session.get(f"{sso}/oidc/callback/", params={"code": "x", "state": "forged"}).status_code == 400
    assert browser_session.get(f"{sso}/oidc/callback/").status_code == 400
    forged = browser_session.get(f"{sso}/oidc/callback/", params={"error": "access_denied", "state": "forged"})
    assert forged.status_code == 400
    denied = browser_session.get(f"{sso}/oidc/callback/", params={"error": "access_denied", "state": state})
    assert denied.status_code == 400 and "did not sign you in" in denied.text
    bad_code = browser_session.get(f"{sso}/oidc/callback/", params={"code": "x", "state": state})
    assert bad_code.status_code == 400  # the state was used up by the error answer
    reasons = list(AuditEvent.objects.filter(action="auth.login_failed").order_by("id").values_list("changes__reason", flat=True))
    assert reasons == ["bad_state", "bad_state", "bad_state", "idp_error", "bad_state"]


def test_a_wrong_code_with_a_real_state_is_a_400(sso, browser_session):
    from urllib.parse import parse_qs

    start = browser_session.get(f"{sso}/oidc/authenticate/", allow_redirects=False)
    state = parse_qs(urlparse(start.headers["Location"]).query)["state"][0]
    response = browser_session.get(f"{sso}/oidc/callback/", params={"code": "made-up", "state": state})
    assert response.status_code == 400 and "refused to complete" in response.text  # invalid_grant from the provider
    assert AuditEvent.objects.get(action="auth.login_failed").changes == {"reason": "bad_code"}


def test_a_code_for_another_session_fails_cleanly(sso, browser_session):
    """A stolen callback URL used from another browser: its state is not in that session."""
    import requests

    callback = _callback_url(browser_session, sso)
    with requests.Session() as attacker:
        attacker.get(f"{sso}/oidc/authenticate/")
        assert attacker.get(callback).status_code == 400
    assert browser_session.get(callback).status_code == 200  # the rightful browser still signs in


def _expire_refresh(browser_session):
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore(browser_session.cookies.get("sessionid"))
    session["oidc_id_token_expiration"] = 0
    session.save()


def test_a_user_disabled_at_the_provider_loses_the_session_on_refresh(sso, idp, browser_session):
    sign_in(browser_session, sso, "alice", "alice-pass")
    _expire_refresh(browser_session)
    still = browser_session.get(f"{sso}/tokens")  # still active there: a silent round trip, same page
    assert still.status_code == 200 and urlparse(still.url).path == "/tokens"
    assert any("prompt=none" in r.headers.get("Location", "") for r in still.history)

    crafted = browser_session.get(f"{sso}/oidc/callback/", params={"error": "login_required"})  # a link someone sent
    assert crafted.status_code == 400 and urlparse(browser_session.get(f"{sso}/tokens").url).path == "/tokens"

    idp.user("alice", "--disable")
    _expire_refresh(browser_session)
    ended = browser_session.get(f"{sso}/tokens")
    assert urlparse(ended.url).path == "/signin" and "session has ended" in ended.text
    assert urlparse(browser_session.get(f"{sso}/").url).path == "/signin"
    event = AuditEvent.objects.filter(action="auth.logout").get()
    assert event.actor_name == "alice" and "login_required" in event.changes["reason"]


@pytest.mark.parametrize("nxt,expected", [("/tokens", "/tokens"), ("https://evil.example/x", "/"), ("//evil.example/x", "/")])
def test_next_stays_on_our_host(sso, browser_session, nxt, expected):
    response = sign_in(browser_session, sso, "alice", "alice-pass", next_url=nxt)
    assert urlparse(response.url).netloc == urlparse(sso).netloc
    assert urlparse(response.url).path == expected


def test_sign_out_ends_the_provider_session_too(sso, idp, browser_session):
    sign_in(browser_session, sso, "alice", "alice-pass")
    page = browser_session.get(f"{sso}/tokens")
    import re

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = browser_session.post(f"{sso}/signout", data={"csrfmiddlewaretoken": token}, headers={"Referer": f"{sso}/tokens"})
    assert [urlparse(r.url).path for r in response.history] == ["/signout", "/o/logout/"]
    assert urlparse(response.url).path == "/signin"
    assert urlparse(browser_session.get(f"{sso}/").url).path == "/signin"
    again = browser_session.get(f"{sso}/oidc/authenticate/")  # the provider asks for the password again
    assert 'id="idp-signin"' in again.text
    assert AuditEvent.objects.filter(action="auth.logout", auth_method="oidc", actor_name="alice").exists()


@pytest.mark.parametrize(
    "value,expected",
    [
        ("/tokens?x=1", "/tokens?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("http://testserver/tokens", "/"),
        ("javascript:alert(1)", "/"),
        ("tokens", "/"),
        (None, "/"),
    ],
)
def test_safe_next_only_names_paths_here(rf, value, expected):
    from accounts.sso.views import safe_next

    assert safe_next(rf.get("/"), value) == expected


def test_sso_is_off_without_an_issuer(settings, client, db):
    settings.WARDEN_OIDC_ISSUER = ""
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "x", "state": "y"}).status_code == 404
    assert 'id="sso"' not in client.get("/signin").content.decode()


def test_a_provider_that_is_down_fails_sign_in_cleanly_and_tokens_keep_working(settings, client, make_user, make_token, workspace):
    from accounts.sso import config
    from tests.idp import free_port

    settings.WARDEN_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}/o"  # nothing listens there
    config.forget_discovery()
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503 and "cannot be reached" in response.content.decode()
    token = make_token(make_user("tess", workspace))
    assert client.get("/api/2.0/mlflow/experiments/search", {"max_results": 5}, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    config.forget_discovery()
