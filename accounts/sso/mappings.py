"""Writes of the IdP group rules (``GroupMapping``), each audited in the rule's workspace.

A rule gives a role, a team of the same workspace, or both; the same group may not name the
same team (or give a role without a team) twice in one workspace. Rules apply at each user's
next SSO sign-in.
"""

from django.db import transaction

from accounts.models import GroupMapping, Role, Team, Workspace
from accounts.services import ServiceError
from audit import actions
from audit.services import record
from audit.targets import target_of


def _snapshot(rule: GroupMapping) -> dict:
    return {"group": rule.group, "role": rule.role or None, "team": rule.team.name if rule.team_id else None}


def _record(action: str, actor, rule: GroupMapping, changes: dict) -> None:
    record(action, actor=actor, **target_of(rule), changes=changes)


def _validate(workspace: Workspace, group, role, team: Team | None, exclude_pk=None) -> str:
    if not isinstance(group, str) or not group.strip() or len(group.strip()) > 255:
        raise ServiceError("'group' must be a non-empty string of at most 255 characters.")
    group = group.strip()
    if any(ord(ch) < 32 for ch in group):
        raise ServiceError("'group' must not contain control characters.")
    if role and role not in Role.values:
        raise ServiceError(f"Unknown role {role!r}: use one of {', '.join(Role.values)}.")
    if team is not None and team.workspace_id != workspace.pk:
        raise ServiceError("The team must belong to this workspace.")
    if not role and team is None:
        raise ServiceError("A rule gives a role, a team, or both.")
    clash = GroupMapping.objects.filter(workspace=workspace, group=group, team=team)
    if clash.exclude(pk=exclude_pk).exists():
        raise ServiceError(f"A rule for group '{group}' with this team already exists.", "conflict")
    return group


@transaction.atomic
def group_mapping_create(*, actor, workspace: Workspace, group: str, role: str = "", team: Team | None = None) -> GroupMapping:
    group = _validate(workspace, group, role, team)
    rule = GroupMapping.objects.create(workspace=workspace, group=group, role=role or "", team=team)
    _record(actions.GROUP_MAPPING_CREATED, actor, rule, {"after": _snapshot(rule)})
    return rule


@transaction.atomic
def group_mapping_update(*, actor, rule: GroupMapping, group: str, role: str = "", team: Team | None = None) -> GroupMapping:
    before = _snapshot(rule)
    rule.group = _validate(rule.workspace, group, role, team, exclude_pk=rule.pk)
    rule.role, rule.team = role or "", team
    rule.save(update_fields=["group", "role", "team"])
    _record(actions.GROUP_MAPPING_UPDATED, actor, rule, {"before": before, "after": _snapshot(rule)})
    return rule


@transaction.atomic
def group_mapping_delete(*, actor, rule: GroupMapping) -> None:
    _record(actions.GROUP_MAPPING_DELETED, actor, rule, {"before": _snapshot(rule)})
    rule.delete()
