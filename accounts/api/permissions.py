"""DRF permission classes of Warden's own API: each view lists the ones it needs.

- ``TokenCaps``: a read-only token may only read.
- ``SuperuserWrites``: anyone signed in may read, only superusers change (workspaces).
- ``WorkspaceRole``: the URL's workspace must be one the caller can act in (else 404, as if it
  did not exist), and the caller's role there must reach the view's ``read_role`` for reads and
  ``write_role`` for writes (else 403). The resolved WorkspaceContext is left on the request.

A refusal leaves what was needed on the request (``warden_denial``), for the audit event that
the view writes when it answers 403 (``audit.denials``).
"""

from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.authentication import Principal
from accounts.models import Role
from accounts.workspaces import WorkspaceNotFound, resolve_workspace

ROLE_RANK = {Role.VIEWER: 1, Role.MEMBER: 2, Role.MAINTAINER: 3, Role.ADMIN: 4}


def _refuse(request, target, need) -> bool:
    request._request.warden_denial = (target, need)
    return False


def principal_of(request) -> Principal:
    """The principal behind a DRF request: the token's (read-only, bound) or the session's."""
    principal = getattr(request._request, "warden_principal", None)
    if principal is None:
        principal = Principal(user=request.user, token=None, auth_method="session")
    return principal


class TokenCaps(BasePermission):
    message = "This API token is read-only."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or not principal_of(request).read_only or _refuse(request, None, "write token")


class SuperuserWrites(BasePermission):
    message = "Only superusers create or change workspaces."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_superuser) or _refuse(request, None, "superuser")


class WorkspaceRole(BasePermission):
    message = "Your role in this workspace does not allow this."

    def has_permission(self, request, view):
        slug = view.kwargs.get("slug")
        try:
            ctx = resolve_workspace(principal_of(request), slug)
        except WorkspaceNotFound:
            raise NotFound(f"Workspace '{slug}' not found.") from None
        request.warden = ctx
        needed = view.read_role if request.method in SAFE_METHODS else view.write_role
        return ROLE_RANK.get(ctx.role, 0) >= ROLE_RANK[needed] or _refuse(request, ctx.workspace, f"role {needed}")
