"""Sign-in through a real OpenID provider (devidp on loopback) into a live Warden."""

from urllib.parse import urlparse

import pytest

from accounts.models import OidcIdentity, User
from audit.models import AuditEvent
from tests.idp import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_scripted_login_provisions_a_user_with_no_access(sso, idp, browser_session):
    before = browser_session.get(f"{sso}/signin").cookies.get("sessionid")
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
    assert browser_session.cookies.get("sessionid", domain="localhost.local") or browser_session.cookies.get("sessionid")
    assert browser_session.cookies.get("sessionid") != before
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "auth_method", "actor_name"))
    assert ("user.provisioned", "oidc", "alice") in actions and ("auth.login", "oidc", "alice") in actions


def test_a_second_login_finds_the_same_identity(sso, browser_session, live_server):
    sign_in(browser_session, sso, "alice", "alice-pass")
    browser_session.cookies.clear()
    response = sign_in(browser_session, sso, "alice", "alice-pass")
    assert response.status_code == 200
    assert User.objects.filter(username__startswith="alice").count() == 1
    assert OidcIdentity.objects.count() == 1
