"""Celery tasks of tracking: thin wrappers around services, taking ids."""

from celery import shared_task

from accounts.models import Workspace
from experiments import purge as purging


@shared_task(name="experiments.purge", acks_late=True, ignore_result=True)
def purge(workspace_id: int | None = None) -> dict:
    """The periodic purge (beat: ``purge-deleted``). Idempotent: a redelivered or overlapping run
    finds claimed objects and finishes them; a deleted workspace id purges nothing."""
    workspace = None
    if workspace_id is not None:
        workspace = Workspace.objects.filter(pk=workspace_id).first()
        if workspace is None:
            return {}
    try:
        return purging.purge(workspace=workspace).counts()
    except purging.PurgeBusy:  # the running purge does the work; the next beat catches up
        return {}
