"""IdP groups to workspace roles and teams, re-applied at every SSO sign-in.

Rules (``GroupMapping``) name a provider group, a workspace, and a role and/or a team there.
- Role: the highest role of the user's matching rules. A membership the sync made
  (``SyncedMembership``) follows the rules both ways and ends when no rule matches any more;
  an admin-made membership is only ever raised, never lowered or removed.
- Teams named by any rule are the provider's: the user is in exactly those of them that their
  matching rules name (and only while a member of the team's workspace). Other teams are left
  alone.
Changes go through ``accounts.services``, so each is recorded once, as the membership or team
event an admin's change would record. Warden makes them (the rules were set by admins; the user
signing in chose nothing): the actor is the system, and ``changes.cause`` names the sync, the
user signing in and the provider groups that matched a rule.
"""

from django.conf import settings

from accounts import services
from accounts.api.permissions import ROLE_RANK
from accounts.models import GroupMapping, Membership, SyncedMembership, Team, User
from accounts.services import ServiceError
from audit import context

SYNC = "idp_group_sync"


def names_in(claims: dict) -> set[str]:
    """The group names of the configured claim: a list of strings (or one string)."""
    value = claims.get(settings.WARDEN_OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return set()
    return {name for name in value if isinstance(name, str) and name}


def sync(*, user: User, names: set[str]) -> None:
    rules = list(GroupMapping.objects.select_related("workspace", "team"))
    matching = [rule for rule in rules if rule.group in names]
    wanted_roles: dict[int, str] = {}
    for rule in matching:
        if rule.role and ROLE_RANK[rule.role] > ROLE_RANK.get(wanted_roles.get(rule.workspace_id), 0):
            wanted_roles[rule.workspace_id] = rule.role
    governed_teams = {rule.team_id for rule in rules if rule.team_id}
    wanted_teams = {rule.team_id for rule in matching if rule.team_id}
    workspaces = {rule.workspace_id: rule.workspace for rule in rules}

    before = _state(user, governed_teams)
    cause = {"by": SYNC, "user": user.get_username(), "groups": sorted({rule.group for rule in matching})}
    with context.as_warden(cause):
        for workspace_id, role in wanted_roles.items():
            _apply_role(user, workspaces[workspace_id], role, before["memberships"].get(workspace_id))
        for workspace_id, membership in before["memberships"].items():
            if workspace_id not in wanted_roles and membership["synced"]:
                _quietly(services.membership_remove, actor=None, workspace=workspaces.get(workspace_id) or membership["workspace"], user=user)
        member_of = set(Membership.objects.filter(user=user).values_list("workspace_id", flat=True))
        current_teams = before["teams"]
        for team in Team.objects.filter(pk__in=wanted_teams - current_teams).select_related("group"):
            if team.workspace_id in member_of:
                _quietly(services.team_member_add, actor=None, team=team, user=user)
        for team in Team.objects.filter(pk__in=current_teams - wanted_teams).select_related("group"):
            _quietly(services.team_member_remove, actor=None, team=team, user=user)


def _apply_role(user, workspace, role, existing):
    if existing is None:
        membership = services.membership_set(actor=None, workspace=workspace, user=user, role=role)
        SyncedMembership.objects.get_or_create(membership=membership)
        if user.default_workspace_id is None:
            User.objects.filter(pk=user.pk).update(default_workspace=workspace)
            user.default_workspace = workspace
    elif existing["role"] != role and (existing["synced"] or ROLE_RANK[role] > ROLE_RANK[existing["role"]]):
        _quietly(services.membership_change, actor=None, workspace=workspace, user=user, role=role)


def _quietly(service, **kwargs):
    """A rule that cannot apply (the last admin cannot step down) leaves things as they are."""
    try:
        service(**kwargs)
    except ServiceError:
        pass


def _state(user, governed_teams) -> dict:
    memberships = {
        m.workspace_id: {"role": m.role, "synced": hasattr(m, "synced"), "workspace": m.workspace}
        for m in Membership.objects.filter(user=user).select_related("workspace", "synced")
    }
    teams = set(Team.objects.filter(pk__in=governed_teams, group__user=user).values_list("pk", flat=True))
    return {"memberships": memberships, "teams": teams}
