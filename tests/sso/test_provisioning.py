"""Provisioning and the group sync without a browser: the rules of accounts.sso.provisioning."""

import threading

import pytest
from django.db import connection

from accounts.models import OidcIdentity, User
from accounts.sso import provisioning

ISSUER = "https://idp.example/o"


def alice(**changes):
    return {"sub": "s-1", "email": "alice@example.org", "email_verified": True, "preferred_username": "alice", **changes}


@pytest.mark.django_db
def test_email_verified_must_be_a_real_true(settings):
    assert provisioning.email_of({"email": "a@example.org", "email_verified": "true"}) == ("a@example.org", False)
    assert provisioning.email_of({"email": "a@example.org", "email_verified": True}) == ("a@example.org", True)
    assert provisioning.email_of({"email": ["a@example.org"], "email_verified": True}) == ("", False)


@pytest.mark.django_db
def test_names_are_made_unique_and_safe(settings):
    User.objects.create_user("alice")
    user = provisioning.sign_in(issuer=ISSUER, claims=alice(preferred_username="alice"))
    assert user.username.startswith("alice-") and len(user.username) == len("alice-") + 8
    odd = provisioning.sign_in(issuer=ISSUER, claims=alice(sub="s-2", preferred_username="Eve <script>"))
    assert odd.username == "Eve-script"


@pytest.mark.django_db
def test_the_same_subject_at_another_issuer_is_another_identity():
    first = provisioning.sign_in(issuer=ISSUER, claims=alice())
    second = provisioning.sign_in(issuer="https://other.example", claims=alice())
    assert first != second and OidcIdentity.objects.count() == 2


@pytest.mark.django_db
def test_a_user_deactivated_in_warden_is_refused():
    user = provisioning.sign_in(issuer=ISSUER, claims=alice())
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(provisioning.Refused) as refused:
        provisioning.sign_in(issuer=ISSUER, claims=alice())
    assert refused.value.reason == "account_disabled"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_at_once_make_one_user():
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sign_in():
        try:
            barrier.wait(timeout=10)
            results.append(provisioning.sign_in(issuer=ISSUER, claims=alice()).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert User.objects.count() == 1 and OidcIdentity.objects.count() == 1


def test_system_checks_catch_half_configured_sso(settings):
    from accounts.sso.checks import sso_settings

    assert sso_settings() == []
    settings.WARDEN_OIDC_ISSUER = "https://idp.example/o"
    assert [e.id for e in sso_settings()] == ["warden.E103"]
    settings.WARDEN_OIDC_CLIENT_ID, settings.WARDEN_OIDC_CLIENT_SECRET = "warden", "s3cret"
    settings.WARDEN_OIDC_SIGN_ALGO, settings.WARDEN_OIDC_PROVISIONING = "none", "everyone"
    assert [e.id for e in sso_settings()] == ["warden.E101", "warden.E102"]
