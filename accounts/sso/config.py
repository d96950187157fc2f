"""SSO configuration: Warden's ``WARDEN_OIDC_*`` settings and the issuer's discovery document.

Everything is read when it is needed, not at import: SSO is off while no issuer is set, and the
provider's endpoints come from ``<issuer>/.well-known/openid-configuration`` (cached for an
hour per issuer, so a rotated endpoint or key set is picked up without a restart).
"""

import threading
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALLOWED_ALGORITHMS = ("RS256", "ES256")
PROVISIONING_POLICIES = ("create", "refuse")
DISCOVERY_TTL_SECONDS = 3600

_lock = threading.Lock()
_discovered: dict[str, tuple[float, dict]] = {}


class ProviderUnavailable(Exception):
    """The identity provider could not be reached or answered nonsense."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


def enabled() -> bool:
    return bool(settings.WARDEN_OIDC_ISSUER)


def issuer() -> str:
    return settings.WARDEN_OIDC_ISSUER.rstrip("/")


def client_id() -> str:
    return settings.WARDEN_OIDC_CLIENT_ID


def client_secret() -> str:
    return settings.WARDEN_OIDC_CLIENT_SECRET


def scopes() -> str:
    requested = settings.WARDEN_OIDC_SCOPES.split()
    return " ".join(requested if "openid" in requested else ["openid", *requested])


def sign_algorithm() -> str:
    algorithm = settings.WARDEN_OIDC_SIGN_ALGO
    if algorithm not in ALLOWED_ALGORITHMS:
        raise ImproperlyConfigured(f"WARDEN_OIDC_SIGN_ALGO must be one of {', '.join(ALLOWED_ALGORITHMS)}")
    return algorithm


def provisioning() -> str:
    policy = settings.WARDEN_OIDC_PROVISIONING
    if policy not in PROVISIONING_POLICIES:
        raise ImproperlyConfigured(f"WARDEN_OIDC_PROVISIONING must be one of {', '.join(PROVISIONING_POLICIES)}")
    return policy


def provider() -> Provider:
    """The issuer's endpoints, from its discovery document; raises ProviderUnavailable."""
    url = issuer()
    now = time.monotonic()
    with _lock:
        cached = _discovered.get(url)
    if cached is not None and now - cached[0] < DISCOVERY_TTL_SECONDS:
        document = cached[1]
    else:
        document = _discover(url)
        with _lock:
            _discovered[url] = (now, document)
    return Provider(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        userinfo_endpoint=document["userinfo_endpoint"],
        jwks_uri=document["jwks_uri"],
        end_session_endpoint=document.get("end_session_endpoint", ""),
    )


def _discover(url: str) -> dict:
    try:
        response = requests.get(f"{url}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery failed: {type(exc).__name__}") from None
    required = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    if not isinstance(document, dict) or any(not isinstance(document.get(key), str) for key in required):
        raise ProviderUnavailable("discovery document lacks required endpoints")
    if document["issuer"].rstrip("/") != url:
        # OpenID Connect Discovery 1.0, section 4.3: the issuer must be the one we asked.
        raise ProviderUnavailable("discovery document names another issuer")
    return document


def forget_discovery() -> None:
    with _lock:
        _discovered.clear()
