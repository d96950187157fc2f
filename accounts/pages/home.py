"""Home: the user's workspaces with their role, the experiments most recently changed, and the
way to the audit log for auditors (who need not be members of what they audit)."""

from django.shortcuts import render

from accounts import selectors
from accounts.models import Membership, Role
from accounts.pages.access import principal
from accounts.routes import signed_in_page
from accounts.workspaces import WorkspaceContext

RECENT_PER_WORKSPACE = 5
MAX_WORKSPACES = 50


@signed_in_page
def home(request):
    from audit.selectors import audited_slugs
    from experiments.models import LifecycleStage
    from experiments.selectors import visible_experiments

    me = principal(request)
    roles = dict(Membership.objects.filter(user=request.user).values_list("workspace_id", "role"))
    rows, recent = [], []
    for workspace in selectors.workspaces_of(me)[:MAX_WORKSPACES]:
        role = roles.get(workspace.pk) or (Role.ADMIN if request.user.is_superuser else None)
        rows.append({"workspace": workspace, "role": role, "is_admin": role == Role.ADMIN})
        ctx = WorkspaceContext(principal=me, workspace=workspace, role=role)
        latest = visible_experiments(ctx).filter(lifecycle_stage=LifecycleStage.ACTIVE).order_by("-last_update_time")
        recent.extend({"experiment": e, "workspace": workspace} for e in latest[:RECENT_PER_WORKSPACE])
    recent.sort(key=lambda row: row["experiment"].last_update_time, reverse=True)
    audited = audited_slugs(me)
    context = {"workspaces": rows, "recent": recent[:10], "audits": audited != [], "audited": audited}
    return render(request, "warden/home.html", context)
