"""Reads for accounts, scoped to the caller: workspaces, members, teams, grants, tokens and the
caller's effective permissions."""

from django.db.models import Prefetch, Q

from accounts.models import ApiToken, GroupMapping, Membership, Team, User, Workspace
from accounts.permissions import grant_models, level_of_codename, level_on, with_granted_level, workspace_level
from accounts.workspaces import WorkspaceContext


def workspaces_of(principal):
    """The workspaces a principal can act in: a bound token's one, a superuser's all, else the
    user's memberships."""
    user = principal.user
    queryset = Workspace.objects.order_by("slug")
    if principal.bound_workspace_id is not None:
        queryset = queryset.filter(pk=principal.bound_workspace_id)
    if user.is_superuser:
        return queryset
    return queryset.filter(memberships__user=user)


def members_of(workspace):
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")


def member(workspace, username):
    return members_of(workspace).filter(user__username=username).first()


def teams_of(workspace):
    members = Prefetch("group__user_set", queryset=User.objects.order_by("username"))
    return Team.objects.filter(workspace=workspace).select_related("group").prefetch_related(members).order_by("name")


def team(workspace, team_id):
    return teams_of(workspace).filter(pk=team_id).first()


def group_mappings_of(workspace):
    """The workspace's IdP group rules, by group, with their teams."""
    return GroupMapping.objects.filter(workspace=workspace).select_related("team").order_by("group", "id")


def group_mapping(workspace, rule_id):
    return group_mappings_of(workspace).filter(pk=rule_id).first()


def service_accounts_of(workspace):
    return User.objects.filter(is_service_account=True, memberships__workspace=workspace).order_by("username")


def service_accounts_with_live_tokens(workspace):
    """The workspace's service accounts, each with ``live_tokens`` (not revoked): two queries in all."""
    live = Prefetch("api_tokens", queryset=_tokens().filter(revoked_at__isnull=True), to_attr="live_tokens")
    return service_accounts_of(workspace).prefetch_related(live)


def service_account(workspace, username):
    return service_accounts_of(workspace).filter(username=username).first()


def grants_on(obj) -> list[dict]:
    """Every grant on an experiment or registered model, users first, then teams; two queries."""
    user_model, group_model = grant_models(type(obj))
    rows = []
    for grant in user_model.objects.filter(content_object=obj).select_related("user", "permission").order_by("user__username"):
        rows.append({"kind": "user", "user": grant.user, "team": None, "level": level_of_codename(grant.permission.codename)})
    teams = group_model.objects.filter(content_object=obj).select_related("group__team", "permission").order_by("group__team__name")
    for grant in teams:
        rows.append({"kind": "team", "user": None, "team": grant.group.team, "level": level_of_codename(grant.permission.codename)})
    return rows


def _tokens():
    return ApiToken.objects.select_related("workspace").order_by("-created_at", "-id")


def tokens_of(user):
    return _tokens().filter(user=user)


def effective_permissions(principal) -> list[dict]:
    """Per workspace the caller can act in: role, workspace level, teams, and every experiment and
    registered model on which the caller holds a grant (user or team), with the effective level."""
    from experiments.models import Experiment
    from registry.models import RegisteredModel

    out = []
    memberships = {m.workspace_id: m.role for m in Membership.objects.filter(user=principal.user)}
    for workspace in workspaces_of(principal):
        role = memberships.get(workspace.pk) or ("admin" if principal.user.is_superuser else None)
        ctx = WorkspaceContext(principal=principal, workspace=workspace, role=role)
        entry = {
            "workspace": workspace.slug,
            "role": role,
            "workspace_level": workspace_level(ctx).name,
            "teams": sorted(principal.user.groups.filter(team__workspace=workspace).values_list("team__name", flat=True)),
            "experiments": [],
            "registered_models": [],
        }
        for model, key, label in ((Experiment, "experiments", "experiment_id"), (RegisteredModel, "registered_models", "name")):
            for obj in with_granted_level(ctx, _granted_objects(ctx, model), model):
                value = obj.wire_id if model is Experiment else obj.name
                entry[key].append({label: value, "name": obj.name, "level": level_on(ctx, obj).name})
        out.append(entry)
    return out


def _granted_objects(ctx, model):
    user_model, group_model = grant_models(model)
    mine = Q(pk__in=user_model.objects.filter(user=ctx.user).values("content_object_id"))
    mine |= Q(pk__in=group_model.objects.filter(group__user=ctx.user, group__team__workspace=ctx.workspace).values("content_object_id"))
    live = {"deleted": False} if hasattr(model, "deleted") else {}  # deleted registered models are gone
    return model.objects.filter(workspace=ctx.workspace, **live).filter(mine).order_by("name")

