"""Reads for tracking objects, always scoped to the caller in SQL."""

from django.db.models import Q

from accounts.models import Role
from experiments.models import Experiment


def visible_experiments(ctx):
    """Experiments of the workspace the caller can READ, as a queryset (usable as a subquery).

    Admins see everything; everyone else sees unrestricted experiments plus their own. Per-object
    grants extend this set in one place, here.
    """
    queryset = Experiment.objects.filter(workspace=ctx.workspace)
    if ctx.role == Role.ADMIN:
        return queryset
    return queryset.filter(Q(restricted=False) | Q(created_by=ctx.user))
