"""Who may read which part of the audit log: the caller's audit scope, applied in SQL.

An auditor reads and exports the log of the workspaces their ``AuditorGrant`` rows name; a grant
without a workspace, or being a superuser, makes a global auditor (every workspace, and the
events of no workspace such as sign-ins). A token bound to a workspace narrows the scope to it.

Workspace admins do not read their workspace's log by virtue of being admins. The log is
where their own actions are answered for, so reading it is a separate capability: an admin who
wants it grants it (to someone else, or to themselves), and that grant is itself an
``auditor.granted`` event. Nothing is hidden from an admin who insists, but nobody reads the log
without the log saying so.

Visibility follows the rest of Warden: a workspace the caller can neither enter nor audit
answers 404 exactly like a missing one; one they can enter but not audit answers 403.
"""

from dataclasses import dataclass

from django.db.models import Q

from accounts.models import Workspace
from audit.models import AuditEvent, AuditorGrant


class NotAuditable(Exception):
    """The caller may not read this part of the log; ``status`` is 404 (invisible) or 403."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class AuditScope:
    workspace_ids: frozenset | None  # None: every workspace and the workspace-less events

    @property
    def is_global(self) -> bool:
        return self.workspace_ids is None

    @property
    def empty(self) -> bool:
        return self.workspace_ids is not None and not self.workspace_ids

    def covers(self, workspace_id) -> bool:
        if self.workspace_ids is None:
            return True
        return workspace_id is not None and workspace_id in self.workspace_ids

    def q(self) -> Q:
        """The scope as a WHERE clause on audit events."""
        if self.workspace_ids is None:
            return Q()
        return Q(workspace_id__in=sorted(self.workspace_ids))

    def events(self):
        return AuditEvent.objects.filter(self.q())

    def within(self, other: "AuditScope") -> "AuditScope":
        """What both scopes allow."""
        if self.workspace_ids is None:
            return other
        if other.workspace_ids is None:
            return self
        return AuditScope(self.workspace_ids & other.workspace_ids)

    def as_json(self):
        return None if self.workspace_ids is None else sorted(self.workspace_ids)

    @classmethod
    def from_json(cls, value) -> "AuditScope":
        return cls(None if value is None else frozenset(int(item) for item in value))


def scope_of(principal) -> AuditScope:
    """One query: the workspaces the principal audits (none for a non-auditor)."""
    user = principal.user
    bound = principal.bound_workspace_id
    if user.is_superuser:
        ids = None
    else:
        granted = list(AuditorGrant.objects.filter(user=user).values_list("workspace_id", flat=True))
        ids = None if None in granted else frozenset(granted)
    if bound is not None:
        ids = frozenset({bound}) if ids is None or bound in ids else frozenset()
    return AuditScope(ids)


def can_enter(principal, workspace: Workspace) -> bool:
    """Whether the caller can see the workspace at all (member, superuser), within its token."""
    from accounts.selectors import workspaces_of

    return workspaces_of(principal).filter(pk=workspace.pk).exists()


def audited_workspace(principal, scope: AuditScope, slug: str) -> Workspace:
    """Fetch a workspace whose log the caller reads: 404 if invisible or missing, 403 if merely visible."""
    from accounts.workspaces import is_slug

    workspace = Workspace.objects.filter(slug=slug).first() if is_slug(slug or "") else None
    if workspace is not None and scope.covers(workspace.pk):
        return workspace
    if workspace is not None and can_enter(principal, workspace):
        raise NotAuditable(f"You are not an auditor of workspace '{slug}'.", 403)
    raise NotAuditable(f"Workspace '{slug}' not found.", 404)


def require_auditor(scope: AuditScope) -> None:
    if scope.empty:
        raise NotAuditable("You are not an auditor of any workspace.", 403)
