"""Which workspace a request acts in, and the caller's role there.

Order (as MLflow's workspace-aware client expects): the ``X-MLFLOW-WORKSPACE`` header, then
the workspace the token is bound to, then the user's default workspace, then their oldest
membership. A workspace the caller may not enter answers exactly like one that does not exist.
"""

from dataclasses import dataclass

from django.core.validators import slug_re

from accounts.authentication import Principal
from accounts.models import Membership, Role, Workspace

WORKSPACE_HEADER = "HTTP_X_MLFLOW_WORKSPACE"
SLUG_MAX_LENGTH = Workspace._meta.get_field("slug").max_length


class WorkspaceNotFound(Exception):
    pass


@dataclass(frozen=True)
class WorkspaceContext:
    principal: Principal
    workspace: Workspace
    role: str

    @property
    def user(self):
        return self.principal.user


def resolve_workspace(principal: Principal, requested_slug: str | None) -> WorkspaceContext:
    """One query: the membership (with its workspace) that the request acts through."""
    user = principal.user
    bound = principal.bound_workspace_id
    if requested_slug and not is_slug(requested_slug):  # cannot exist; keep header junk (NUL) away from SQL
        raise WorkspaceNotFound(requested_slug)
    if user.is_superuser:
        return _superuser_context(principal, requested_slug)
    memberships = Membership.objects.select_related("workspace").filter(user=user)
    if requested_slug:
        memberships = memberships.filter(workspace__slug=requested_slug)
    elif bound is not None:
        memberships = memberships.filter(workspace_id=bound)
    elif user.default_workspace_id is not None:
        memberships = memberships.order_by(_default_first(user.default_workspace_id), "id")
    else:
        memberships = memberships.order_by("id")
    membership = memberships.first()
    if membership is None or (bound is not None and membership.workspace_id != bound):
        raise WorkspaceNotFound(requested_slug or "")
    return WorkspaceContext(principal=principal, workspace=membership.workspace, role=membership.role)


def is_slug(text: str) -> bool:
    """What a workspace slug can be: the SlugField's alphabet and length."""
    return len(text) <= SLUG_MAX_LENGTH and slug_re.match(text) is not None


def _default_first(default_id):
    from django.db.models import Case, IntegerField, Value, When

    return Case(When(workspace_id=default_id, then=Value(0)), default=Value(1), output_field=IntegerField())


def _superuser_context(principal: Principal, requested_slug: str | None) -> WorkspaceContext:
    user, bound = principal.user, principal.bound_workspace_id
    workspaces = Workspace.objects.all()
    if requested_slug:
        workspaces = workspaces.filter(slug=requested_slug)
    elif bound is not None:
        workspaces = workspaces.filter(pk=bound)
    elif user.default_workspace_id is not None:
        workspaces = workspaces.filter(pk=user.default_workspace_id)
    workspace = workspaces.order_by("id").first()
    if workspace is None or (bound is not None and workspace.pk != bound):
        raise WorkspaceNotFound(requested_slug or "")
    return WorkspaceContext(principal=principal, workspace=workspace, role=Role.ADMIN)
