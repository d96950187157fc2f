"""The permission ladder and how a workspace role becomes a level on one object."""

from enum import IntEnum

from accounts.models import Role


class Level(IntEnum):
    NONE = 0
    READ = 1  # see and download
    USE = 2  # READ + load and serve models
    EDIT = 3  # log runs, metrics, artifacts, versions, tags, aliases; soft-delete runs
    MANAGE = 4  # delete/restore/rename, share, promote, protect


ROLE_FLOOR = {
    Role.VIEWER: Level.READ,
    Role.MEMBER: Level.EDIT,
    Role.MAINTAINER: Level.MANAGE,
    Role.ADMIN: Level.MANAGE,
}

# A read-only token may still load models; it may never change anything.
READ_ONLY_TOKEN_CAP = Level.USE


def object_level(ctx, *, created_by_id: int | None, restricted: bool) -> Level:
    """The caller's level on an experiment or registered model of ctx.workspace.

    Members manage what they created; a restricted object ignores the role floor for all but
    workspace admins.
    """
    role = ctx.role
    if role == Role.ADMIN:
        level = Level.MANAGE
    elif created_by_id is not None and created_by_id == ctx.user.pk and role != Role.VIEWER:
        level = Level.MANAGE
    elif restricted:
        level = Level.NONE
    else:
        level = ROLE_FLOOR.get(role, Level.NONE)
    return cap_for_token(ctx, level)


def workspace_level(ctx) -> Level:
    """What the role allows for workspace-wide actions such as creating an experiment."""
    return cap_for_token(ctx, ROLE_FLOOR.get(ctx.role, Level.NONE))


def cap_for_token(ctx, level: Level) -> Level:
    if ctx.principal.read_only:
        return min(level, READ_ONLY_TOKEN_CAP)
    return level
