"""Fetch-and-authorise for pages: the signed-in user's principal and workspace role."""

from django.http import Http404
from django.core.exceptions import PermissionDenied

from accounts.api.permissions import ROLE_RANK
from accounts.authentication import Principal
from accounts.models import Role
from accounts.workspaces import WorkspaceContext, WorkspaceNotFound, resolve_workspace


def principal(request) -> Principal:
    return Principal(user=request.user, token=None, auth_method="session")


def workspace_as(request, slug: str, role: str = Role.ADMIN) -> WorkspaceContext:
    """The workspace if the user may act in it (else 404, as if missing) with at least ``role``
    (else 403)."""
    try:
        ctx = resolve_workspace(principal(request), slug)
    except WorkspaceNotFound:
        raise Http404("No such workspace.") from None
    if ROLE_RANK.get(ctx.role, 0) < ROLE_RANK[role]:
        raise PermissionDenied("Only workspace admins can open this page.")
    return ctx
