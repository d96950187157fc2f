"""My API tokens: create (workspace, scope, expiry), see when each was last used, revoke.

A new token's secret is in the answer to the creating POST only (never stored, never in a
redirect or the session), with the ``MLFLOW_TRACKING_*`` lines to paste into a shell.
"""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.pages.access import principal
from accounts.pages.forms import TokenForm
from accounts.pages.responses import done, secret_response
from accounts.routes import signed_in_page


def client_lines(request, plaintext: str, workspace=None) -> str:
    lines = [f"export MLFLOW_TRACKING_URI={request.build_absolute_uri('/').rstrip('/')}", f"export MLFLOW_TRACKING_TOKEN={plaintext}"]
    if workspace is not None:
        lines.append(f"export MLFLOW_WORKSPACE={workspace.slug}")
    return "\n".join(lines)


@signed_in_page
@require_http_methods(["GET", "POST"])
def tokens(request):
    workspaces = list(selectors.workspaces_of(principal(request)))
    form = TokenForm(request.POST or None, workspaces=workspaces)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            slug = form.cleaned_data.get("workspace")
            workspace = next((w for w in workspaces if w.slug == slug), None) if slug else None
            token, plaintext = services.token_create(
                actor=request.user,
                user=request.user,
                name=form.cleaned_data["name"],
                workspace=workspace,
                read_only=form.cleaned_data["scope"] == "read",
                expires_at=form.expires_at(),
            )
            created = {"token": token, "plaintext": plaintext, "lines": client_lines(request, plaintext, workspace)}
            form = TokenForm(workspaces=workspaces)
        else:
            status = 400
    context = {"form": form, "tokens": selectors.tokens_of(request.user), "created": created}
    return secret_response(render(request, "warden/tokens.html", context, status=status))


@signed_in_page
@require_POST
def token_revoke(request, token_id: int):
    token = selectors.tokens_of(request.user).filter(pk=token_id).first()
    if token is None:
        raise Http404("No such token.")
    services.token_revoke(actor=request.user, token=token)
    return done(request, f"Token “{token.name}” is revoked.", "tokens")
