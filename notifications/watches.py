"""Writes of watches: a user asks for (or stops) e-mail about an experiment or registered model.

A watch sends that object's changes to the watcher's mailbox, so starting and ending one is
audited, with the watched object as the target. The caller has fetched the object with READ
(``notifications.api.views``); what each e-mail may say is re-checked when it goes out.
"""

from django.db import transaction

from audit import actions
from audit.services import record
from audit.targets import target_of
from notifications.models import Watch


@transaction.atomic
def watch_set(*, actor, workspace, kind: str, obj) -> tuple[Watch, bool]:
    """Watch ``obj`` (idempotent: a second call changes nothing and records nothing)."""
    watch, created = Watch.objects.get_or_create(user=actor, target_type=kind, target_id=obj.pk, defaults={"workspace": workspace})
    if created:
        record(actions.WATCH_CREATED, actor=actor, **target_of(obj), changes={"after": {"watcher": actor.get_username()}})
    return watch, created


@transaction.atomic
def watch_remove(*, actor, kind: str, obj) -> bool:
    """Stop watching ``obj``; False when there was no watch."""
    deleted, _ = Watch.objects.filter(user=actor, target_type=kind, target_id=obj.pk).delete()
    if deleted:
        record(actions.WATCH_REMOVED, actor=actor, **target_of(obj), changes={"before": {"watcher": actor.get_username()}})
    return bool(deleted)
