"""ID token checks over the library's: the configured asymmetric algorithm only, and the token
must be for Warden's client, from the configured issuer, unexpired. Tokens here are signed with
the running provider's own key (or forged without it)."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import SuspiciousOperation

from accounts.sso import config
from accounts.sso.backend import WardenOIDCBackend
from tests import idp as devidp


@pytest.fixture
def provider_key(sso, idp):
    return serialization.load_pem_private_key((idp.data / "oidc-rsa.pem").read_bytes(), password=None)


def claims(idp, **changes):
    now = int(time.time())
    return {"iss": idp.issuer, "aud": devidp.CLIENT_ID, "sub": "1", "iat": now, "exp": now + 300, **changes}


def verify(token, key):
    return WardenOIDCBackend()._verify_jws(token, key)


def test_a_token_signed_by_the_provider_for_us_verifies(provider_key, idp):
    token = jwt.encode(claims(idp), provider_key, algorithm="RS256")
    assert verify(token, provider_key.public_key())["sub"] == "1"


@pytest.mark.parametrize(
    "changes",
    [{"aud": "another-client"}, {"iss": "http://127.0.0.1:1/o"}, {"exp": int(time.time()) - 3600}],
    ids=["audience", "issuer", "expired"],
)
def test_tokens_for_others_or_expired_are_rejected(provider_key, idp, changes):
    token = jwt.encode(claims(idp, **changes), provider_key, algorithm="RS256")
    with pytest.raises(SuspiciousOperation):
        verify(token, provider_key.public_key())


def test_symmetric_and_unsigned_tokens_are_rejected(provider_key, idp):
    forged_hs256 = jwt.encode(claims(idp), devidp.CLIENT_SECRET, algorithm="HS256")  # signed with the client secret
    unsigned = jwt.encode(claims(idp), None, algorithm="none")
    for token in (forged_hs256, unsigned, "not.a.jwt"):
        with pytest.raises(SuspiciousOperation):
            verify(token, provider_key.public_key())


def test_only_rs256_or_es256_can_be_configured(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.WARDEN_OIDC_SIGN_ALGO = "HS256"
    with pytest.raises(ImproperlyConfigured):
        config.sign_algorithm()
    settings.WARDEN_OIDC_SIGN_ALGO = "ES256"
    assert config.sign_algorithm() == "ES256"
