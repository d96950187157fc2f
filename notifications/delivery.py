"""Sending one delivery: claim it, make one attempt, log it, then finish or schedule a retry.

A worker claims a due delivery with a lease (one UPDATE), so two workers never send it at
once, and a worker that dies mid-attempt only delays it: the lease expires and the drain sends
it again (at-least-once; receivers dedupe on the delivery id). Retries back off exponentially
(``WARDEN_WEBHOOK_RETRY_BASE`` doubling, at most an hour) for at most
``WARDEN_WEBHOOK_MAX_ATTEMPTS`` attempts.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import Channel, Delivery, DeliveryAttempt, DeliveryStatus

MAX_BACKOFF = 3600.0
EARLY_TOLERANCE = timedelta(seconds=1)  # a countdown may fire a little before the row says


@dataclass(frozen=True)
class Result:
    """One attempt's outcome. ``retry``: worth trying again; ``skip``: nothing left to send."""

    succeeded: bool
    status_code: int | None = None
    error: str = ""
    retry: bool = False
    skip: bool = False
    retry_after: float | None = None  # seconds the receiver asked for (Retry-After)


def backoff_seconds(attempts: int) -> float:
    return min(settings.WARDEN_WEBHOOK_RETRY_BASE * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def lease_seconds() -> float:
    """Longer than one attempt can take (connect timeout + read timeout, and some slack)."""
    return 2 * settings.WARDEN_WEBHOOK_TIMEOUT + 5


def claim(delivery_id) -> Delivery | None:
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + EARLY_TOLERANCE)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_until=now + timedelta(seconds=lease_seconds()), attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("webhook", "recipient", "event", "workspace").get(pk=delivery_id)


def attempt(delivery: Delivery) -> Result:
    if delivery.channel == Channel.WEBHOOK:
        from notifications.webhooks.sender import send

        return send(delivery)
    from notifications.email import send

    return send(delivery)


def deliver(delivery_id) -> float | None:
    """Make the next attempt of a due delivery; returns the retry delay when one is scheduled."""
    delivery = claim(delivery_id)
    if delivery is None:
        return None  # not due, already done, or another worker holds it
    started, clock = timezone.now(), time.monotonic()
    try:
        result = attempt(delivery)
    except Exception as exc:  # a bug or an unexpected library error: logged, retried
        result = Result(succeeded=False, error=type(exc).__name__[:64], retry=True)
    return record(delivery, result, started, int((time.monotonic() - clock) * 1000))


def record(delivery: Delivery, result: Result, started, duration_ms: int) -> float | None:
    DeliveryAttempt.objects.create(
        delivery=delivery, number=delivery.attempts, started_at=started, duration_ms=duration_ms,
        status_code=result.status_code, error=result.error, succeeded=result.succeeded,
    )
    now = timezone.now()
    fields = {"lease_until": None}
    delay = None
    if result.succeeded:
        fields.update(status=DeliveryStatus.SUCCEEDED, completed_at=now)
    elif result.skip:
        fields.update(status=DeliveryStatus.SKIPPED, completed_at=now)
    elif not result.retry or delivery.is_test or delivery.attempts >= settings.WARDEN_WEBHOOK_MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED, completed_at=now)
    else:
        delay = min(max(backoff_seconds(delivery.attempts), result.retry_after or 0), MAX_BACKOFF)
        fields.update(next_attempt_at=now + timedelta(seconds=delay))
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return delay
