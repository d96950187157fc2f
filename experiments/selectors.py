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


DELETED_KINDS = ("experiment", "run", "logged_model", "registered_model", "model_version")


def deleted_objects(workspace, *, kinds=DELETED_KINDS, limit: int = 1000) -> list[dict]:
    """What is deleted in the workspace and still restorable (for its admins): per kind, oldest
    deletion first, at most ``limit`` of each, with the time the purge may take it."""
    from experiments.models import LifecycleStage, LoggedModel, PurgeClaim, Run
    from experiments.retention import purge_due_ms
    from registry.models import ModelVersion, RegisteredModel

    stage = {"lifecycle_stage": LifecycleStage.DELETED}
    sources = {
        "experiment": (Experiment.objects.filter(workspace=workspace, **stage), lambda o: (o.wire_id, o.name)),
        "run": (
            Run.objects.filter(experiment__workspace=workspace, **stage).select_related("experiment"),
            lambda o: (o.run_uuid, o.name),
        ),
        "logged_model": (
            LoggedModel.objects.filter(experiment__workspace=workspace, **stage), lambda o: (o.model_id, o.name)
        ),
        "registered_model": (RegisteredModel.objects.filter(workspace=workspace, deleted=True), lambda o: (str(o.pk), o.name)),
        "model_version": (
            ModelVersion.objects.filter(registered_model__workspace=workspace, deleted=True).select_related("registered_model"),
            lambda o: (str(o.version), o.registered_model.name),
        ),
    }
    out = []
    for kind in kinds:
        queryset, describe = sources[kind]
        rows = list(queryset.order_by("deleted_time", "pk")[:limit])
        claimed = set(PurgeClaim.objects.filter(kind=kind, object_id__in=[r.pk for r in rows]).values_list("object_id", flat=True))
        for row in rows:
            key, name = describe(row)
            out.append({
                "kind": kind, "id": key, "name": name, "deleted_time": row.deleted_time,
                "purge_after": purge_due_ms(workspace, row.deleted_time), "purging": row.pk in claimed,
            })
    return out
