"""Writes for accounts: workspaces, memberships, teams, grants, service accounts and API tokens.

Callers authorise first (the API views check roles and levels); these functions validate the
request against the tenancy rules and write in one transaction. Bad input raises
``ServiceError`` (a ValueError) with a ``code``: "invalid", "conflict" or "not_found".
"""

import uuid

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import tokens
from accounts.models import ApiToken, Membership, Role, Team, User, Workspace
from accounts.permissions import GRANT_LEVELS, Level, codename, grant_models, level_of_codename
from accounts.workspaces import SLUG_MAX_LENGTH, is_slug
from audit import actions
from audit.services import record
from audit.targets import changed, target_of
from notifications import events


class ServiceError(ValueError):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


@transaction.atomic
def workspace_create(*, actor: User | None, slug: str, name: str = "") -> Workspace:
    """Create a workspace with its Default experiment; the slug must be one a header can name."""
    from experiments.services import default_experiment_ensure

    if not is_slug(slug or ""):
        raise ValueError(f"Invalid workspace slug {slug!r}: use 1-{SLUG_MAX_LENGTH} letters, digits, '-' or '_'.")
    workspace = Workspace.objects.create(slug=slug, name=name or slug)
    default_experiment_ensure(workspace=workspace)
    record(actions.WORKSPACE_CREATED, actor=actor, **target_of(workspace), changes={"after": {"slug": slug, "name": workspace.name}})
    return workspace


@transaction.atomic
def membership_set(*, actor: User | None, workspace: Workspace, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}")
    before = Membership.objects.select_for_update().filter(user=user, workspace=workspace).values_list("role", flat=True).first()
    membership, _ = Membership.objects.update_or_create(user=user, workspace=workspace, defaults={"role": role})
    if before is None:
        record(actions.MEMBERSHIP_ADDED, actor=actor, **target_of(user, workspace=workspace), changes={"after": {"role": role}})
    elif before != role:
        _record_role_change(actor, workspace, user, before, role)
    return membership


def _record_role_change(actor, workspace, user, before: str, after: str):
    record(
        actions.MEMBERSHIP_ROLE_CHANGED, actor=actor, **target_of(user, workspace=workspace),
        changes={"before": {"role": before}, "after": {"role": after}},
    )


@transaction.atomic
def token_create(
    *,
    actor: User | None,
    user: User,
    name: str,
    workspace: Workspace | None = None,
    read_only: bool = False,
    expires_at=None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored or shown again."""
    plaintext, prefix, digest = tokens.generate()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, digest=digest, workspace=workspace, read_only=read_only, expires_at=expires_at
    )
    record(actions.TOKEN_CREATED, actor=actor, **target_of(token), changes={"after": _token_facts(token)})
    return token, plaintext


def _token_facts(token: ApiToken) -> dict:
    """What identifies a token to an auditor: never its secret, only the public lookup prefix."""
    return {
        "owner": token.user.get_username(),
        "prefix": token.prefix,
        "workspace": token.workspace.slug if token.workspace_id else None,
        "read_only": token.read_only,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }


@transaction.atomic
def token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        changes = {"before": {"revoked": False}, "after": {"revoked": True, **_token_facts(token)}}
        record(actions.TOKEN_REVOKED, actor=actor, **target_of(token), changes=changes)
    return token


# ---------------------------------------------------------------- workspaces and members


@transaction.atomic
def workspace_update(*, actor: User | None, workspace: Workspace, name: str) -> Workspace:
    """Rename a workspace (its display name; the slug clients send in headers stays)."""
    name = _text(name, "name", Workspace._meta.get_field("name").max_length)
    before = workspace.name
    workspace.name = name
    workspace.save(update_fields=["name"])
    if before != name:
        record(actions.WORKSPACE_UPDATED, actor=actor, **target_of(workspace), changes=changed({"name": before}, {"name": name}))
    return workspace


def _admins_left(workspace: Workspace, without: User) -> bool:
    return Membership.objects.filter(workspace=workspace, role=Role.ADMIN).exclude(user=without).exists()


@transaction.atomic
def membership_change(*, actor: User | None, workspace: Workspace, user: User, role: str) -> Membership:
    """Change an existing member's role; the last admin of a workspace cannot step down."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role {role!r}: use one of {', '.join(Role.values)}.")
    membership = Membership.objects.select_for_update().filter(workspace=workspace, user=user).first()
    if membership is None:
        raise ServiceError(f"'{user.get_username()}' is not a member of this workspace.", "not_found")
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _admins_left(workspace, user):
        raise ServiceError("A workspace keeps at least one admin: promote someone else first.", "conflict")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if before != role:
        _record_role_change(actor, workspace, user, before, role)
    return membership


@transaction.atomic
def membership_remove(*, actor: User | None, workspace: Workspace, user: User) -> None:
    """Remove a member together with everything that member held in the workspace.

    Their teams of this workspace, their grants on its experiments and models, and their tokens
    bound to it go in the same transaction, so nothing of the old membership survives a later
    re-invitation.
    """
    membership = Membership.objects.select_for_update().filter(workspace=workspace, user=user).first()
    if membership is None:
        raise ServiceError(f"'{user.get_username()}' is not a member of this workspace.", "not_found")
    if membership.role == Role.ADMIN and not _admins_left(workspace, user):
        raise ServiceError("A workspace keeps at least one admin: promote someone else first.", "conflict")
    user.groups.remove(*Group.objects.filter(team__workspace=workspace))
    for model in _grantable_models():
        grant_models(model)[0].objects.filter(user=user, content_object__workspace=workspace).delete()
    ApiToken.objects.filter(user=user, workspace=workspace, revoked_at__isnull=True).update(revoked_at=timezone.now())
    membership.delete()
    if user.default_workspace_id == workspace.pk:
        User.objects.filter(pk=user.pk).update(default_workspace=None)
        user.default_workspace = None
    record(actions.MEMBERSHIP_REMOVED, actor=actor, **target_of(user, workspace=workspace), changes={"before": {"role": membership.role}})


# ---------------------------------------------------------------- teams


TEAM_NAME_MAX_LENGTH = Team._meta.get_field("name").max_length


@transaction.atomic
def team_create(*, actor: User | None, workspace: Workspace, name: str) -> Team:
    """A team and its auth Group (the principal guardian grants to), named opaquely so that team
    names of different workspaces never collide."""
    name = _text(name, "name", TEAM_NAME_MAX_LENGTH)
    if Team.objects.filter(workspace=workspace, name=name).exists():
        raise ServiceError(f"A team named '{name}' already exists in this workspace.", "conflict")
    group = Group.objects.create(name=f"team-{uuid.uuid4().hex}")
    try:
        with transaction.atomic():
            team = Team.objects.create(workspace=workspace, name=name, group=group)
    except IntegrityError:
        raise ServiceError(f"A team named '{name}' already exists in this workspace.", "conflict") from None
    record(actions.TEAM_CREATED, actor=actor, **target_of(team), changes={"after": {"name": name}})
    return team


@transaction.atomic
def team_rename(*, actor: User | None, team: Team, name: str) -> Team:
    name = _text(name, "name", TEAM_NAME_MAX_LENGTH)
    if Team.objects.filter(workspace_id=team.workspace_id, name=name).exclude(pk=team.pk).exists():
        raise ServiceError(f"A team named '{name}' already exists in this workspace.", "conflict")
    before = team.name
    team.name = name
    team.save(update_fields=["name"])
    if before != name:
        record(actions.TEAM_RENAMED, actor=actor, **target_of(team), changes=changed({"name": before}, {"name": name}))
    return team


@transaction.atomic
def team_delete(*, actor: User | None, team: Team) -> None:
    """Deleting the Group deletes the team, its memberships and its grants (all by foreign key)."""
    members = sorted(team.group.user_set.values_list("username", flat=True))
    record(actions.TEAM_DELETED, actor=actor, **target_of(team), changes={"before": {"name": team.name, "members": members}})
    team.group.delete()


@transaction.atomic
def team_member_add(*, actor: User | None, team: Team, user: User) -> None:
    """Only members of the team's workspace can join it."""
    if not Membership.objects.filter(workspace_id=team.workspace_id, user=user).exists():
        raise ServiceError(f"'{user.get_username()}' is not a member of this workspace.")
    if not team.group.user_set.filter(pk=user.pk).exists():
        team.group.user_set.add(user)
        record(actions.TEAM_MEMBER_ADDED, actor=actor, **target_of(team), changes={"after": {"member": user.get_username()}})


@transaction.atomic
def team_member_remove(*, actor: User | None, team: Team, user: User) -> None:
    if not team.group.user_set.filter(pk=user.pk).exists():
        raise ServiceError(f"'{user.get_username()}' is not in team '{team.name}'.", "not_found")
    team.group.user_set.remove(user)
    record(actions.TEAM_MEMBER_REMOVED, actor=actor, **target_of(team), changes={"before": {"member": user.get_username()}})


# ---------------------------------------------------------------- grants


def _grantable_models():
    from experiments.models import Experiment
    from registry.models import RegisteredModel

    return (Experiment, RegisteredModel)


def _permission(model, level: Level) -> Permission:
    content_type = ContentType.objects.get_for_model(model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename(level, model), defaults={"name": f"{level.name} {model._meta.verbose_name}"}
    )
    return permission


def _principal(obj, user: User | None, team: Team | None) -> dict:
    """The grant's principal, after checking it belongs to the object's workspace: grants never
    reach across workspaces."""
    if (user is None) == (team is None):
        raise ServiceError("A grant goes to exactly one user or one team.")
    if user is not None:
        if not Membership.objects.filter(workspace_id=obj.workspace_id, user=user).exists():
            raise ServiceError(f"'{user.get_username()}' is not a member of this workspace.")
        return {"user": user}
    if team.workspace_id != obj.workspace_id:
        raise ServiceError(f"Team '{team.name}' is not a team of this workspace.")
    return {"group": team.group}


def _grant_table(obj, principal: dict):
    user_model, group_model = grant_models(type(obj))
    return user_model if "user" in principal else group_model


def _release_ownership(obj, user: User | None):
    """The creator's MANAGE follows their grant: lowering or revoking it ends the ownership."""
    if user is not None and obj.created_by_id == user.pk:
        type(obj).objects.filter(pk=obj.pk).update(created_by=None)
        obj.created_by = None


@transaction.atomic
def grant_set(*, actor: User | None, obj, level, user: User | None = None, team: Team | None = None):
    """Grant (or change) ``level`` on an experiment or registered model to a user or a team.

    Returns ``(grant, created)``. One row per principal and object: the row's permission is
    the level, so a change replaces the level rather than adding one.
    """
    if type(obj) not in _grantable_models():
        raise ServiceError("Grants exist on experiments and registered models only.")
    if level not in GRANT_LEVELS:
        raise ServiceError(f"Unknown level {level!r}: use one of {', '.join(l.name for l in GRANT_LEVELS)}.")
    level = Level(level)
    principal = _principal(obj, user, team)
    table = _grant_table(obj, principal)
    before = table.objects.filter(content_object=obj, **principal).values_list("permission__codename", flat=True).first()
    grant, created = table.objects.update_or_create(
        content_object=obj, **principal, defaults={"permission": _permission(type(obj), level)}
    )
    if level < Level.MANAGE:
        _release_ownership(obj, user)
    before_level = level_of_codename(before).name if before else None
    if before_level != level.name:
        record(
            actions.GRANT_CREATED if before is None else actions.GRANT_CHANGED,
            actor=actor,
            **target_of(obj),
            changes={"grantee": _grantee(user, team), "before": {"level": before_level}, "after": {"level": level.name}},
        )
    events.grant_changed(actor=actor, obj=obj, user=user, team=team, level=level)
    return grant, created


def _grantee(user: User | None, team: Team | None) -> dict:
    return {"user": user.get_username()} if user is not None else {"team": team.name}


@transaction.atomic
def grant_revoke(*, actor: User | None, obj, user: User | None = None, team: Team | None = None) -> None:
    if (user is None) == (team is None):
        raise ServiceError("A grant goes to exactly one user or one team.")
    principal = {"user": user} if user is not None else {"group": team.group}
    rows = _grant_table(obj, principal).objects.filter(content_object=obj, **principal)
    before = rows.values_list("permission__codename", flat=True).first()
    deleted, _ = rows.delete()
    if not deleted:
        raise ServiceError("No such grant.", "not_found")
    _release_ownership(obj, user)
    record(
        actions.GRANT_REVOKED, actor=actor, **target_of(obj),
        changes={"grantee": _grantee(user, team), "before": {"level": level_of_codename(before).name}, "after": {"level": None}},
    )
    events.grant_changed(actor=actor, obj=obj, user=user, team=team)


def grant_creator(*, obj, user: User | None) -> None:
    """At creation: the creator manages what they made, as an explicit, listed, revocable grant.

    Callers are the create services, inside their transaction. A superuser acting in a workspace
    they are not a member of gets no grant (they are admins there anyway).
    """
    if user is None or not Membership.objects.filter(workspace_id=obj.workspace_id, user=user).exists():
        return
    grant_models(type(obj))[0].objects.update_or_create(
        content_object=obj, user=user, defaults={"permission": _permission(type(obj), Level.MANAGE)}
    )
    record(
        actions.GRANT_CREATED, actor=user, **target_of(obj),
        changes={"grantee": _grantee(user, None), "before": {"level": None}, "after": {"level": Level.MANAGE.name}, "reason": "creator"},
    )


# ---------------------------------------------------------------- service accounts


@transaction.atomic
def service_account_create(*, actor: User | None, workspace: Workspace, username: str, role: str = Role.MEMBER) -> User:
    """A token-only user that belongs to one workspace (its only membership)."""
    username = _text(username, "username", User._meta.get_field("username").max_length)
    for validator in User._meta.get_field("username").validators:
        try:
            validator(username)
        except Exception:
            raise ServiceError("Invalid username: use letters, digits and @/./+/-/_ only.") from None
    if role not in Role.values:
        raise ServiceError(f"Unknown role {role!r}: use one of {', '.join(Role.values)}.")
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(f"The username '{username}' is taken.", "conflict")
    user = User(username=username, is_service_account=True, default_workspace=workspace)
    user.set_unusable_password()
    try:
        with transaction.atomic():  # a concurrent creation of the same name loses cleanly
            user.save()
    except IntegrityError:
        raise ServiceError(f"The username '{username}' is taken.", "conflict") from None
    Membership.objects.create(user=user, workspace=workspace, role=role)
    record(
        actions.SERVICE_ACCOUNT_CREATED, actor=actor, **target_of(user, workspace=workspace),
        changes={"after": {"username": username, "role": role}},
    )
    return user


@transaction.atomic
def service_account_deactivate(*, actor: User | None, user: User) -> User:
    """Deactivate a service account and revoke its tokens; its history (runs, audit) stays."""
    if not user.is_service_account:
        raise ServiceError(f"'{user.get_username()}' is not a service account.")
    was_active = user.is_active
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record(
        actions.SERVICE_ACCOUNT_DEACTIVATED, actor=actor, **target_of(user, workspace=user.default_workspace),
        changes={"before": {"active": was_active}, "after": {"active": False}, "tokens_revoked": revoked},
    )
    return user


def _text(value, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ServiceError(f"'{field}' must be a non-empty string.")
    value = value.strip()
    if len(value) > max_length:
        raise ServiceError(f"'{field}' exceeds the maximum length of {max_length}.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ServiceError(f"'{field}' must not contain control characters.")
    return value
