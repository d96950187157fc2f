"""The transactional outbox: events written with the change, fanned out after commit.

``emit`` is one INSERT in the caller's transaction plus an after-commit enqueue of
``notifications.dispatch`` (which takes the event's id only). ``dispatch_event`` turns an event
into deliveries exactly once (the row lock and ``dispatched_at`` make a second run a no-op), and
``drain`` is the periodic sweep that dispatches what no task did and resends deliveries that
are due, so neither a broker outage nor a killed worker loses an event.
"""

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.models import Channel, Delivery, DeliveryStatus, OutboxEvent, Watch, Webhook, WebhookStatus

logger = logging.getLogger("warden.notifications")

DRAIN_BATCH = 500


def drain_grace() -> timedelta:
    """Work younger than this is left to its own after-commit task."""
    return timedelta(seconds=settings.WARDEN_OUTBOX_DRAIN_GRACE)


def emit(event_type: str, *, workspace, payload: dict, target=None, actor=None) -> OutboxEvent:
    from notifications import tasks

    event = OutboxEvent.objects.create(
        workspace=workspace,
        event_type=event_type,
        payload=payload,
        target_type=_target_type(target),
        target_id=getattr(target, "pk", None),
        actor=actor if getattr(actor, "pk", None) else None,
    )
    transaction.on_commit(lambda: tasks.enqueue(tasks.dispatch, event.pk))
    return event


def _target_type(target) -> str:
    if target is None:
        return ""
    name = target._meta.model_name
    return "registered_model" if name == "registeredmodel" else name


def webhook_body(event: OutboxEvent) -> str:
    """MLflow's envelope, serialised once so every attempt sends (and signs) the same bytes."""
    return json.dumps({
        "entity": event.entity,
        "action": event.action,
        "timestamp": event.created_at.isoformat(),
        "data": event.payload,
        "workspace": event.workspace.slug,
    })


def _subscribed_webhooks(event: OutboxEvent):
    hooks = Webhook.objects.filter(workspace_id=event.workspace_id, status=WebhookStatus.ACTIVE, deleted_timestamp__isnull=True)
    return [hook for hook in hooks if event.event_type in (hook.events or [])]


def _watchers(event: OutboxEvent):
    if not event.target_type or event.target_id is None:
        return []
    watches = Watch.objects.filter(workspace_id=event.workspace_id, target_type=event.target_type, target_id=event.target_id)
    if event.actor_id is not None:
        watches = watches.exclude(user_id=event.actor_id)  # nobody is told about their own change
    return list(watches.values_list("user_id", flat=True))


def dispatch_event(event_id: int) -> list:
    """Fan one event out into deliveries; returns the ids of the deliveries it created."""
    from notifications import tasks

    with transaction.atomic():
        event = (
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .select_related("workspace")
            .filter(pk=event_id, dispatched_at__isnull=True)
            .first()
        )
        if event is None:
            return []  # already dispatched, or being dispatched right now
        now = timezone.now()
        common = {"workspace_id": event.workspace_id, "event": event, "event_type": event.event_type, "next_attempt_at": now}
        rows = [Delivery(channel=Channel.WEBHOOK, webhook=hook, body=webhook_body(event), **common) for hook in _subscribed_webhooks(event)]
        rows += [Delivery(channel=Channel.EMAIL, recipient_id=user_id, **common) for user_id in _watchers(event)]
        Delivery.objects.bulk_create(rows)
        event.dispatched_at = now
        event.save(update_fields=["dispatched_at"])
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: [tasks.enqueue(tasks.deliver, str(pk)) for pk in ids])
    return ids


def purge_old(now) -> int:
    """Events (with their deliveries and attempt log) and test deliveries older than
    ``WARDEN_NOTIFICATION_RETENTION_DAYS`` go, a batch per sweep."""
    cutoff = now - timedelta(days=settings.WARDEN_NOTIFICATION_RETENTION_DAYS)
    old_events = list(OutboxEvent.objects.filter(dispatched_at__lt=cutoff).values_list("pk", flat=True)[:DRAIN_BATCH])
    old_tests = list(Delivery.objects.filter(event__isnull=True, created_at__lt=cutoff).values_list("pk", flat=True)[:DRAIN_BATCH])
    removed = OutboxEvent.objects.filter(pk__in=old_events).delete()[0]
    return removed + Delivery.objects.filter(pk__in=old_tests).delete()[0]


def drain() -> dict:
    """Dispatch events no task took, enqueue deliveries that are due and unclaimed, and purge
    what is past retention."""
    from notifications import tasks

    now = timezone.now()
    grace = drain_grace()
    event_ids = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=now - grace)
        .order_by("created_at")
        .values_list("pk", flat=True)[:DRAIN_BATCH]
    )
    for event_id in event_ids:
        dispatch_event(event_id)
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .exclude(lease_until__gt=now)
        .exclude(attempts=0, created_at__gt=now - grace)  # their own task is on its way
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:DRAIN_BATCH]
    )
    for pk in due:
        tasks.enqueue(tasks.deliver, str(pk))
    purge_old(now)
    return {"events": len(event_ids), "deliveries": len(due)}
