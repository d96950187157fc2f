"""The permission ladder, and how roles and grants become a level on one object.

The level of a caller on an experiment or registered model of ``ctx.workspace`` is

    max(role floor, the caller's user grants, the grants of the caller's teams)

where a ``restricted`` object ignores the floor for everyone but workspace admins (always
MANAGE), and a member or maintainer keeps MANAGE on what they created (``created_by``; the
services also write an explicit MANAGE grant at creation, so the grant list shows it and
revoking it takes the object away, see ``accounts.services.grant_revoke``). A read-only token
caps the result at USE.

Grants are django-guardian object permissions held in per-model tables with direct foreign keys
(``experiments.ExperimentUserObjectPermission`` and friends): one row per (principal, object)
whose permission (``read_experiment`` ... ``manage_registeredmodel``) is the level. Guardian is
never asked about global (model-wide) permissions: every rule here is scoped to one workspace.

Two ways to apply the rule, both in SQL:
- ``visible_q`` scopes a list or search (an ``id__in`` subquery over the grant tables, OR the
  role floor, OR the creator): no post-filtering, no row per run.
- ``with_granted_level`` folds the caller's highest grant into the fetch of one object (a
  scalar subquery), so an access helper decides with the query that fetches the object.
"""

from enum import IntEnum
from functools import lru_cache

from django.db.models import Case, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

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

# The levels a grant can carry, and the verb of their permission codename.
GRANT_LEVELS = (Level.READ, Level.USE, Level.EDIT, Level.MANAGE)
_VERBS = {Level.READ: "read", Level.USE: "use", Level.EDIT: "edit", Level.MANAGE: "manage"}

# The attribute on which a fetched object carries the caller's highest grant.
GRANTED_ATTR = "warden_granted_level"


def codename(level: Level, model) -> str:
    """The guardian permission codename of a grant level on a model: ``edit_experiment``."""
    return f"{_VERBS[Level(level)]}_{model._meta.model_name}"


def level_of_codename(name: str) -> Level:
    verb = name.partition("_")[0]
    for level, known in _VERBS.items():
        if known == verb:
            return level
    return Level.NONE


def parse_level(text) -> Level | None:
    """A grant level from its name (``"EDIT"``, ``"edit"``); None when it names no grant level."""
    if not isinstance(text, str):
        return None
    try:
        level = Level[text.strip().upper()]
    except KeyError:
        return None
    return level if level in GRANT_LEVELS else None


@lru_cache(maxsize=None)
def grant_models(model):
    """The (user grants, team grants) tables of a model, as guardian resolves them (once)."""
    return get_user_obj_perms_model(model), get_group_obj_perms_model(model)


def creator_keeps_manage(ctx, created_by_id) -> bool:
    return created_by_id is not None and created_by_id == ctx.user.pk and ctx.role in (Role.MEMBER, Role.MAINTAINER)


def object_level(ctx, *, created_by_id: int | None, restricted: bool, granted: Level = Level.NONE) -> Level:
    """The caller's level on an experiment or registered model of ctx.workspace.

    ``granted`` is the caller's highest grant on the object (user or team); see ``granted_level``.
    """
    role = ctx.role
    if role == Role.ADMIN:
        level = Level.MANAGE
    elif creator_keeps_manage(ctx, created_by_id):
        level = Level.MANAGE
    elif restricted:
        level = Level.NONE
    else:
        level = ROLE_FLOOR.get(role, Level.NONE)
    return cap_for_token(ctx, max(level, Level(granted or 0)))


def level_on(ctx, obj) -> Level:
    """The caller's level on an experiment or registered model, using the grant folded into its
    fetch when there is one (``with_granted_level``), else one query."""
    if ctx.role == Role.ADMIN:
        granted = Level.NONE
    else:
        granted = getattr(obj, GRANTED_ATTR, None)
        if granted is None:
            granted = granted_level(ctx, obj)
    return object_level(ctx, created_by_id=obj.created_by_id, restricted=obj.restricted, granted=granted)


def workspace_level(ctx) -> Level:
    """What the role allows for workspace-wide actions such as creating an experiment."""
    return cap_for_token(ctx, ROLE_FLOOR.get(ctx.role, Level.NONE))


def cap_for_token(ctx, level: Level) -> Level:
    if ctx.principal.read_only:
        return min(level, READ_ONLY_TOKEN_CAP)
    return level


# ---------------------------------------------------------------- grants in SQL


def _rank(model):
    """The level of a grant row, from its permission's codename."""
    return Case(
        *(When(permission__codename=codename(level, model), then=Value(int(level))) for level in GRANT_LEVELS),
        default=Value(0),
        output_field=IntegerField(),
    )


def _user_grants(ctx, model):
    return grant_models(model)[0].objects.filter(user=ctx.user)


def _team_grants(ctx, model):
    """Grants to the teams of ctx.workspace the caller belongs to."""
    return grant_models(model)[1].objects.filter(group__user=ctx.user, group__team__workspace=ctx.workspace)


def granted_level_expression(ctx, model, outer: str = "pk"):
    """A scalar SQL expression: the caller's highest grant on the ``model`` row at ``outer``."""

    def best(rows):
        rows = rows.filter(content_object=OuterRef(outer)).annotate(rank=_rank(model)).order_by("-rank")
        return Coalesce(Subquery(rows.values("rank")[:1]), Value(0), output_field=IntegerField())

    return Greatest(best(_user_grants(ctx, model)), best(_team_grants(ctx, model)), output_field=IntegerField())


def with_granted_level(ctx, queryset, model, outer: str = "pk"):
    """Annotate each row with the caller's highest grant on its ``model`` object (at ``outer``).

    Admins need no grant, so their fetch stays as it was.
    """
    if ctx.role == Role.ADMIN:
        return queryset
    return queryset.annotate(**{GRANTED_ATTR: granted_level_expression(ctx, model, outer)})


def carry_granted_level(source, target):
    """Hand the grant annotated on a fetched row (a run, a version) to the object it inherits from."""
    value = getattr(source, GRANTED_ATTR, None)
    if value is not None:
        setattr(target, GRANTED_ATTR, value)
    return target


def granted_level(ctx, obj) -> Level:
    """The caller's highest grant on one object: one query."""
    model = type(obj)
    value = model.objects.filter(pk=obj.pk).annotate(top=granted_level_expression(ctx, model)).values_list("top", flat=True).first()
    return Level(value or 0)


def visible_q(ctx, model) -> Q:
    """Rows of ``model`` (experiments, registered models) of ctx.workspace the caller can READ.

    Combine with the workspace filter: role floor on unrestricted objects, OR created by the
    caller (members and maintainers), OR an ``id__in`` subquery over the caller's user grants and
    their teams' grants. Admins see everything.
    """
    if ctx.role == Role.ADMIN:
        return Q()
    condition = Q(pk__in=_user_grants(ctx, model).values("content_object_id"))
    condition |= Q(pk__in=_team_grants(ctx, model).values("content_object_id"))
    if ROLE_FLOOR.get(ctx.role, Level.NONE) >= Level.READ:
        condition |= Q(restricted=False)
    if ctx.role in (Role.MEMBER, Role.MAINTAINER):
        condition |= Q(created_by=ctx.user)
    return condition
