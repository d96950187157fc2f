"""Service accounts of a workspace and their tokens (workspace admins only)."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.pages.access import workspace_as
from accounts.pages.forms import ServiceAccountForm, TokenForm
from accounts.pages.responses import done, secret_response
from accounts.pages.tokens import client_lines
from accounts.routes import signed_in_page
from accounts.services import ServiceError


def _page(request, ctx, account_form=None, token_form=None, created=None, status=200):
    accounts = [{"user": user, "tokens": user.live_tokens} for user in selectors.service_accounts_with_live_tokens(ctx.workspace)]
    context = {
        "workspace": ctx.workspace,
        "accounts": accounts,
        "account_form": account_form or ServiceAccountForm(),
        "token_form": token_form or TokenForm(),
        "created": created,
    }
    return secret_response(render(request, "warden/service_accounts.html", context, status=status))


def _account(ctx, username):
    user = selectors.service_account(ctx.workspace, username)
    if user is None:
        raise Http404("No such service account.")
    return user


@signed_in_page
@require_http_methods(["GET", "POST"])
def service_accounts(request, slug: str):
    ctx = workspace_as(request, slug)
    if request.method == "GET":
        return _page(request, ctx)
    form = ServiceAccountForm(request.POST)
    if not form.is_valid():
        return _page(request, ctx, account_form=form, status=400)
    try:
        user = services.service_account_create(
            actor=request.user, workspace=ctx.workspace, username=form.cleaned_data["username"], role=form.cleaned_data["role"]
        )
    except ServiceError as exc:
        form.add_error("username", str(exc))
        return _page(request, ctx, account_form=form, status=409 if exc.code == "conflict" else 400)
    return done(request, f"Service account “{user.username}” created.", "service-accounts", slug)


@signed_in_page
@require_POST
def service_account_token(request, slug: str, username: str):
    ctx = workspace_as(request, slug)
    account = _account(ctx, username)
    form = TokenForm(request.POST)
    if not account.is_active:
        form.add_error(None, f"“{username}” is deactivated.")
    if not form.is_valid():
        return _page(request, ctx, token_form=form, status=400)
    token, plaintext = services.token_create(
        actor=request.user,
        user=account,
        name=form.cleaned_data["name"],
        workspace=ctx.workspace,
        read_only=form.cleaned_data["scope"] == "read",
        expires_at=form.expires_at(),
    )
    created = {"token": token, "plaintext": plaintext, "lines": client_lines(request, plaintext, ctx.workspace), "account": account}
    return _page(request, ctx, created=created)


@signed_in_page
@require_POST
def service_account_token_revoke(request, slug: str, username: str, token_id: int):
    ctx = workspace_as(request, slug)
    token = selectors.tokens_of(_account(ctx, username)).filter(pk=token_id).first()
    if token is None:
        raise Http404("No such token.")
    services.token_revoke(actor=request.user, token=token)
    return done(request, f"Token “{token.name}” of “{username}” is revoked.", "service-accounts", slug)


@signed_in_page
@require_POST
def service_account_deactivate(request, slug: str, username: str):
    ctx = workspace_as(request, slug)
    services.service_account_deactivate(actor=request.user, user=_account(ctx, username))
    return done(request, f"“{username}” is deactivated and its tokens are revoked.", "service-accounts", slug)
