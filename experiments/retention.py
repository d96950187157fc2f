"""Retention policy: how long deleted objects stay restorable, and protection from deletion.

Writes here are audited services: a workspace admin sets the workspace's retention period,
someone with MANAGE protects an experiment (a protected experiment cannot be deleted and nothing
in it is purged). ``refuse_if_purging`` is what every restore calls under the object's row lock:
once the purge has claimed an object (``PurgeClaim``), it is on its way out and a restore would
bring back an object whose files may already be gone.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction

from audit import actions
from audit.services import record
from audit.targets import target_of
from experiments.errors import invalid, invalid_state
from experiments.models import Experiment, PurgeClaim

DAY_MS = 24 * 3600 * 1000
MAX_RETENTION_DAYS = 36_500


def retention_days(workspace) -> int:
    """The workspace's own period, else the server default."""
    days = workspace.retention_days
    return settings.WARDEN_DEFAULT_RETENTION_DAYS if days is None else days


def cutoff_ms(workspace, now_ms: int | None = None) -> int:
    """Objects deleted at or before this instant (epoch ms) are due for purging."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return now_ms - retention_days(workspace) * DAY_MS


def purge_due_ms(workspace, deleted_time: int | None) -> int | None:
    """When an object deleted at ``deleted_time`` becomes purgeable."""
    return None if deleted_time is None else deleted_time + retention_days(workspace) * DAY_MS


def refuse_if_purging(kind: str, object_id: int, what: str) -> None:
    """Call with the object's row locked: a claimed object cannot come back."""
    if PurgeClaim.objects.filter(kind=kind, object_id=object_id).exists():
        raise invalid_state(f"{what} is being purged and can no longer be restored.")


@transaction.atomic
def retention_set(*, actor, workspace, days) -> int | None:
    """Set (``days``) or clear (``None``: back to the server default) the workspace's period."""
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS):
        raise invalid(f"'retention_days' must be a whole number of days from 1 to {MAX_RETENTION_DAYS}, or null.")
    before = workspace.retention_days
    if before != days:
        type(workspace).objects.filter(pk=workspace.pk).update(retention_days=days)
        workspace.retention_days = days
        record(
            actions.WORKSPACE_DELETION_RETENTION_CHANGED, actor=actor, **target_of(workspace),
            changes={"before": {"retention_days": before}, "after": {"retention_days": days}},
        )
    return days


@transaction.atomic
def experiment_protection_set(*, actor, experiment: Experiment, protected: bool) -> Experiment:
    """Protect or unprotect an experiment (MANAGE, checked by the caller)."""
    if not isinstance(protected, bool):
        raise invalid("'protected' must be a boolean.")
    locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if locked.protected != protected:
        locked.protected = protected
        locked.save(update_fields=["protected"])
        record(
            actions.EXPERIMENT_PROTECTION_CHANGED, actor=actor, **target_of(locked),
            changes={"before": {"protected": not protected}, "after": {"protected": protected}},
        )
    experiment.protected = protected
    return locked
