"""IdP group rules of a workspace (workspace admins): which provider group gives which role
and team here."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors
from accounts.pages.access import workspace_as
from accounts.pages.forms import GroupMappingForm
from accounts.pages.responses import done
from accounts.routes import signed_in_page
from accounts.services import ServiceError
from accounts.sso import config, mappings


def _rule(ctx, rule_id):
    rule = selectors.group_mapping(ctx.workspace, rule_id)
    if rule is None:
        raise Http404("No such rule.")
    return rule


def _save(request, ctx, rule=None):
    """Create (rule=None) or update from the POSTed form; returns the bound form on errors."""
    teams = list(selectors.teams_of(ctx.workspace))
    form = GroupMappingForm(request.POST, teams=teams)
    if not form.is_valid():
        return form
    team = next((t for t in teams if t.pk == form.cleaned_data["team"]), None)
    fields = {"group": form.cleaned_data["group"], "role": form.cleaned_data["role"], "team": team}
    try:
        if rule is None:
            mappings.group_mapping_create(actor=request.user, workspace=ctx.workspace, **fields)
        else:
            mappings.group_mapping_update(actor=request.user, rule=rule, **fields)
    except ServiceError as exc:
        form.add_error(None, str(exc))
        return form
    return None


def _page(request, ctx, form=None, status=200):
    teams = list(selectors.teams_of(ctx.workspace))
    rules = [{"rule": r, "form": GroupMappingForm(initial={"group": r.group, "role": r.role, "team": r.team_id}, teams=teams)} for r in selectors.group_mappings_of(ctx.workspace)]
    context = {
        "workspace": ctx.workspace,
        "rules": rules,
        "form": form or GroupMappingForm(teams=teams),
        "groups_claim": settings.WARDEN_OIDC_GROUPS_CLAIM,
        "sso_enabled": config.enabled(),
    }
    return render(request, "warden/group_mappings.html", context, status=status)


@signed_in_page
@require_http_methods(["GET", "POST"])
def group_mappings(request, slug: str):
    ctx = workspace_as(request, slug)
    if request.method == "GET":
        return _page(request, ctx)
    form = _save(request, ctx)
    if form is not None:
        return _page(request, ctx, form=form, status=400)
    return done(request, "Rule added; it applies at each user's next sign-in.", "group-mappings", slug)


@signed_in_page
@require_POST
def group_mapping_update(request, slug: str, rule_id: int):
    ctx = workspace_as(request, slug)
    form = _save(request, ctx, _rule(ctx, rule_id))
    if form is None:
        return done(request, "Rule saved.", "group-mappings", slug)
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("group-mappings", args=[slug]))


@signed_in_page
@require_POST
def group_mapping_delete(request, slug: str, rule_id: int):
    ctx = workspace_as(request, slug)
    mappings.group_mapping_delete(actor=request.user, rule=_rule(ctx, rule_id))
    return done(request, "Rule deleted.", "group-mappings", slug)
