"""Reads for tracking objects, always scoped to the caller in SQL."""

from accounts.permissions import visible_q
from experiments.models import Experiment


def visible_experiments(ctx):
    """Experiments of the workspace the caller can READ, as a queryset (usable as a subquery).

    The rule (``accounts.permissions.visible_q``): the role floor on unrestricted experiments,
    the caller's own, and an ``id__in`` subquery over the caller's and their teams' grants;
    admins see everything. One SQL statement, whatever the number of grants.
    """
    return Experiment.objects.filter(workspace=ctx.workspace).filter(visible_q(ctx, Experiment))
