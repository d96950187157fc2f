"""Who is calling: API tokens (Bearer, or the password of HTTP Basic) and browser sessions.

Tokens are never read from a query string. One indexed query finds the token and its owner;
the last-used time is written at most once per ``WARDEN_TOKEN_LAST_USED_RESOLUTION`` seconds.

Refused credentials are audited (``auth.token_rejected``, outcome denied): one INSERT per
refused request and never more (a second refusal in the same request is not recorded again),
of bounded size: a fixed reason, the token's 12-hex-digit lookup prefix when the token is
well formed, the known token's id, name and owner, never the secret or what else was sent.
"""

import base64
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts import tokens
from accounts.models import ApiToken, User
from audit import actions
from audit import context as audit_context
from audit.models import Outcome


class InvalidCredentials(Exception):
    """Credentials were presented but are wrong, expired or revoked."""


def _rejected(
    message: str, method: str = "", *, prefix: str | None = None, token: ApiToken | None = None, reason: str = ""
) -> InvalidCredentials:
    """Audit a refused credential and return the error to raise (``reason``: the auditor's detail)."""
    from audit.services import record

    ctx = audit_context.current()
    if not (ctx.request_id and ctx.extra.get("token_rejected")):
        if ctx.request_id:
            ctx.extra["token_rejected"] = True
        target = {"target_type": "api_token", "target_id": token.pk if token else None, "target_name": token.name if token else ""}
        record(
            actions.AUTH_TOKEN_REJECTED,
            workspace=token.workspace if token is not None and token.workspace_id else None,
            **target,
            changes={"reason": reason or message, "prefix": prefix},
            outcome=Outcome.DENIED,
            error_code="UNAUTHENTICATED",
            auth_method=method,
            actor_name=token.user.get_username() if token is not None else None,
        )
    return InvalidCredentials(message)


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
            raise _rejected("Malformed Basic credentials", "basic")
        _, sep, password = decoded.partition(":")
        if not sep:
            raise _rejected("Malformed Basic credentials", "basic")
        return "basic", password
    raise _rejected("Unsupported authorization scheme")


def authenticate_token(raw: str, method: str) -> Principal:
    parts = tokens.split(raw)
    if parts is None:
        raise _rejected("Invalid API token", method)
    prefix, secret = parts
    token = ApiToken.objects.select_related("user", "workspace").filter(prefix=prefix).first()
    now = timezone.now()
    if token is None or not tokens.matches(secret, token.digest):
        # A wrong secret for a real prefix names the prefix only: whoever sent it does not hold the token.
        raise _rejected("Invalid API token", method, prefix=prefix)
    if not token.is_usable(now) or not token.user.is_active:
        reason = "revoked" if token.revoked_at else "owner deactivated" if not token.user.is_active else "expired"
        raise _rejected("API token expired or revoked", method, prefix=prefix, token=token, reason=f"API token {reason}")
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


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication (with its CSRF check), naming the principal for the audit log."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None:
            audit_context.set_principal(Principal(user=found[0], token=None, auth_method="session"))
        return found
