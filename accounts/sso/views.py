"""The SSO routes: start a sign-in, the provider's callback, and signing out.

A callback that fails for any reason (unknown or replayed state, an error from the provider, a
token that does not verify, a user Warden refuses) answers a friendly page with a 4xx status,
never a 500, and leaves an ``auth.login_failed`` event with the reason.
"""

import time
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth, messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts.sso import config
from accounts.sso.backend import REFUSAL_ATTR
from audit import actions
from audit.models import Outcome
from audit.services import record
from audit.targets import target_of

BACKEND_PATH = "accounts.sso.backend.WardenOIDCBackend"


def safe_next(request, value, default: str = "/") -> str:
    """``next`` only ever names a path on this host."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    ):
        return value
    return default


def failure_page(request, message: str, status: int = 400):
    return render(request, "warden/signin_failed.html", {"message": message}, status=status)


def login_failed(reason: str, *, actor_name: str = "", error_code: str = "", auth_method: str = "oidc"):
    record(
        actions.AUTH_LOGIN_FAILED,
        outcome=Outcome.DENIED,
        error_code=error_code or reason,
        changes={"reason": reason},
        auth_method=auth_method,
        actor_name=actor_name,
    )


class AuthenticateView(OIDCAuthenticationRequestView):
    """Send the browser to the provider (code flow, PKCE S256, nonce, state)."""

    def __init__(self, **kwargs):  # the library reads the endpoints here; we read them per request
        View.__init__(self, **kwargs)

    OIDC_OP_AUTH_ENDPOINT = property(lambda self: config.provider().authorization_endpoint)
    OIDC_RP_CLIENT_ID = property(lambda self: config.client_id())

    def get_settings(self, attr, *args):
        if attr == "OIDC_RP_SCOPES":
            return config.scopes()
        return super().get_settings(attr, *args)

    def get(self, request):
        if not config.enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            response = super().get(request)
        except config.ProviderUnavailable:
            return failure_page(request, "The identity provider cannot be reached; try again shortly.", status=503)
        request.session["oidc_login_next"] = safe_next(request, request.GET.get("next"))
        return response


class CallbackView(View):
    http_method_names = ["get"]

    def get(self, request):
        if not config.enabled():
            raise Http404("Single sign-on is not configured.")
        states = request.session.get("oidc_states") or {}
        state = request.GET.get("state", "")
        entry = states.pop(state, None) if state else None
        if entry is not None:
            request.session["oidc_states"] = states  # single use, whatever happens next
            request.session.save()
        # A silent re-check (SessionRefresh) comes back here while signed in. Only a callback
        # with a state this session issued may end the session: a crafted link may not.
        refreshing = request.user.is_authenticated and entry is not None
        if request.GET.get("error"):
            return self._provider_error(request, refreshing, entry)
        if entry is None or not request.GET.get("code"):
            return self._failed(request, False, "bad_state", "This sign-in link is not valid any more (it was used already or has expired). Please sign in again.")
        try:
            user = auth.authenticate(request=request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier"))
        except SuspiciousOperation:
            return self._failed(request, refreshing, "bad_token", "The identity provider's answer could not be verified. Please sign in again.")
        except requests.HTTPError as exc:
            if exc.response is not None and 400 <= exc.response.status_code < 500:  # e.g. invalid_grant
                message = "The identity provider refused to complete this sign-in. Please sign in again."
                return self._failed(request, refreshing, "bad_code", message)
            message = "The identity provider did not answer as expected; try again shortly."
            return self._failed(request, refreshing, "idp_error", message, status=502, error_code="idp_unreachable")
        except (requests.RequestException, config.ProviderUnavailable):
            message = "The identity provider did not answer as expected; try again shortly."
            return self._failed(request, refreshing, "idp_error", message, status=502, error_code="idp_unreachable")
        if user is None or not user.is_active:
            refusal = getattr(request, REFUSAL_ATTR, None)
            message = refusal.message if refusal else "Warden could not sign you in with this account."
            return self._failed(request, refreshing, refusal.reason if refusal else "refused", message, status=403)
        if not (refreshing and request.user.pk == user.pk):
            auth.login(request, user, backend=BACKEND_PATH)  # a new session key: no fixation
            record(actions.AUTH_LOGIN, actor=user, auth_method="oidc", **target_of(user))
        request.session["oidc_id_token_expiration"] = time.time() + settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS
        return HttpResponseRedirect(safe_next(request, request.session.get("oidc_login_next")))

    def _provider_error(self, request, refreshing, entry):
        error = request.GET.get("error", "")[:64]
        if refreshing:  # the silent re-check failed: signed out or disabled at the provider
            self._end_session(request, error)
            messages.info(request, "Your single sign-on session has ended. Please sign in again.")
            return HttpResponseRedirect(reverse("signin"))
        reason = "idp_error" if entry is not None else "bad_state"
        return self._failed(request, False, reason, "The identity provider did not sign you in. Please try again.", error_code=error or reason)

    def _failed(self, request, refreshing, reason, message, status=400, error_code=""):
        """A failed callback: a re-check that fails ends the session (fail closed)."""
        if refreshing:
            self._end_session(request, reason)
        login_failed(reason, error_code=error_code)
        return failure_page(request, message, status=status)

    @staticmethod
    def _end_session(request, reason):
        user = request.user
        record(actions.AUTH_LOGOUT, actor=user, auth_method="oidc", **target_of(user), changes={"reason": f"session refresh: {reason}"})
        auth.logout(request)


class SignOutView(View):
    """POST only (a link must not sign anyone out). SSO sessions also end at the provider."""

    http_method_names = ["post"]

    def post(self, request):
        target = reverse("signin")
        if request.user.is_authenticated:
            sso = request.session.get(auth.BACKEND_SESSION_KEY) == BACKEND_PATH
            id_token = request.session.get("oidc_id_token")
            record(actions.AUTH_LOGOUT, actor=request.user, **target_of(request.user), auth_method="oidc" if sso else "password")
            auth.logout(request)
            if sso and id_token and config.enabled():
                target = _provider_logout_url(request, id_token) or target
        return HttpResponseRedirect(target)


def _provider_logout_url(request, id_token) -> str:
    try:
        endpoint = config.provider().end_session_endpoint
    except config.ProviderUnavailable:
        return ""
    if not endpoint:
        return ""
    query = {
        "id_token_hint": id_token,
        "client_id": config.client_id(),
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("signin")),
    }
    return f"{endpoint}?{urlencode(query)}"
