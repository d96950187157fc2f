"""The sign-in page: the SSO button (when an issuer is configured) and the local form (unless
``WARDEN_LOCAL_LOGIN=off``), with failed local attempts rate-limited per name and address."""

from django.conf import settings
from django.contrib import auth
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts import ratelimit
from accounts.pages.forms import SignInForm
from accounts.routes import public
from accounts.sso import config
from accounts.sso.views import login_failed, safe_next
from audit import actions
from audit.models import Outcome
from audit.services import record
from audit.targets import target_of

REASON = "the sign-in page itself: anonymous visitors must reach it; it shows no data"


def _page(request, form, next_url, status=200, error="", retry_after=None):
    context = {
        "form": form,
        "next": next_url,
        "sso_enabled": config.enabled(),
        "sso_name": settings.WARDEN_OIDC_PROVIDER_NAME,
        "local_enabled": settings.WARDEN_LOCAL_LOGIN,
        "error": error,
        "retry_after": retry_after,
    }
    response = render(request, "warden/signin.html", context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@public(REASON)
@never_cache
@csrf_protect
def signin(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    if request.method != "POST":
        return _page(request, SignInForm(), next_url)
    if not settings.WARDEN_LOCAL_LOGIN:
        return _page(request, SignInForm(), next_url, status=403, error="Sign-in with a password is switched off here.")
    form = SignInForm(request.POST)
    if not form.is_valid():
        return _page(request, form, next_url, status=400, error="Enter a user name and a password.")
    username, password = form.cleaned_data["username"], form.cleaned_data["password"]
    address = request.META.get("REMOTE_ADDR", "")
    wait = ratelimit.retry_after(username, address)
    if wait:
        login_failed("rate_limited", actor_name=username, auth_method="password")
        message = f"Too many failed sign-ins. Try again in {wait} seconds."
        return _page(request, SignInForm(initial={"username": username}), next_url, status=429, error=message, retry_after=wait)
    user = auth.authenticate(request, username=username, password=password)
    if user is None or user.is_service_account:
        for scope in ratelimit.failed(username, address):
            record(
                actions.AUTH_LOGIN_RATE_LIMITED,
                outcome=Outcome.DENIED,
                actor_name=username,
                auth_method="password",
                changes={"scope": scope, "window_seconds": settings.WARDEN_LOGIN_LOCKOUT_SECONDS},
            )
        login_failed("bad_password", actor_name=username, auth_method="password")
        form = SignInForm(initial={"username": username})
        return _page(request, form, next_url, status=401, error="Wrong user name or password.")
    ratelimit.succeeded(username, address)
    auth.login(request, user)  # rotates the session key
    record(actions.AUTH_LOGIN, actor=user, auth_method="password", **target_of(user))
    return redirect(next_url)
