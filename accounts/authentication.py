"""Who is calling: API tokens (Bearer, or the password of HTTP Basic) and browser sessions.

Tokens are never read from a query string. One indexed query finds the token and its owner;
the last-used time is written at most once per ``WARDEN_TOKEN_LAST_USED_RESOLUTION`` seconds.
"""

import base64
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts import tokens
from accounts.models import ApiToken, User
from audit import context as audit_context


class InvalidCredentials(Exception):
    """Credentials were presented but are wrong, expired or revoked."""


@dataclass(frozen=True)
class Principal:
    user: User
    token: ApiToken | None
    auth_method: str  # "token", "basic" or "session"

    @property
    def read_only(self) -> bool:
        return bool(self.token and self.token.read_only)

    @property
    def bound_workspace_id(self) -> int | None:
        return self.token.workspace_id if self.token else None

    @property
    def display_name(self) -> str:
        return self.user.get_username()


def credentials_from_header(header: str) -> tuple[str, str] | None:
    """Return (method, token) from an Authorization header, or None when there is none."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return "token", value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:  # bad base64, non-ASCII header text or bytes that are not UTF-8
            raise InvalidCredentials("Malformed Basic credentials")
        _, sep, password = decoded.partition(":")
        if not sep:
            raise InvalidCredentials("Malformed Basic credentials")
        return "basic", password
    raise InvalidCredentials("Unsupported authorization scheme")


def authenticate_token(raw: str, method: str) -> Principal:
    parts = tokens.split(raw)
    if parts is None:
        raise InvalidCredentials("Invalid API token")
    prefix, secret = parts
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    now = timezone.now()
    if token is None or not tokens.matches(secret, token.digest):
        raise InvalidCredentials("Invalid API token")
    if not token.is_usable(now) or not token.user.is_active:
        raise InvalidCredentials("API token expired or revoked")
    resolution = timedelta(seconds=settings.WARDEN_TOKEN_LAST_USED_RESOLUTION)
    if token.last_used_at is None or now - token.last_used_at > resolution:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return Principal(user=token.user, token=token, auth_method=method)


def authenticate_request(request) -> Principal | None:
    """The principal behind a request, None if anonymous; raises InvalidCredentials."""
    found = credentials_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
    principal = None
    if found is not None:
        method, raw = found
        principal = authenticate_token(raw, method)
    else:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            principal = Principal(user=user, token=None, auth_method="session")
    if principal is not None:
        audit_context.set_principal(principal)
    return principal


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """The same tokens for Warden's own DRF API."""

    def authenticate(self, request):
        try:
            found = credentials_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
            if found is None:
                return None
            principal = authenticate_token(found[1], found[0])
        except InvalidCredentials as exc:
            raise exceptions.AuthenticationFailed(str(exc))
        request._request.warden_principal = principal
        audit_context.set_principal(principal)
        return principal.user, principal.token

    def authenticate_header(self, request):
        return 'Bearer realm="warden"'
