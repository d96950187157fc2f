"""Celery tasks of notifications: thin, taking ids only, safe to run twice.

``enqueue`` is how everything here is sent to the broker: without retries and with a short
connect timeout (``WARDEN_CELERY_CONNECT_TIMEOUT``), and never raising, because it runs after
a request's commit. Whatever it could not enqueue is still in the database, where the periodic
``notifications.drain`` finds it.
"""

import logging

from celery import current_app, shared_task

from notifications import delivery, outbox

logger = logging.getLogger("warden.notifications")


def enqueue(task, *args, countdown: float | None = None) -> bool:
    try:
        task.apply_async(args, retry=False, countdown=countdown)
    except Exception:  # broker unreachable: the outbox keeps the work
        logger.warning("notifications: could not enqueue %s%r; the periodic drain will pick it up", task.name, args, exc_info=True)
        return False
    return True


@shared_task(name="notifications.dispatch", acks_late=True, ignore_result=True)
def dispatch(event_id: int) -> int:
    return len(outbox.dispatch_event(event_id))


@shared_task(name="notifications.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: str) -> None:
    delay = delivery.deliver(delivery_id)
    # In-process (eager) mode a countdown would block the request: the drain retries instead.
    if delay is not None and not current_app.conf.task_always_eager:
        enqueue(deliver, delivery_id, countdown=delay)


@shared_task(name="notifications.drain", acks_late=True, ignore_result=True)
def drain() -> dict:
    return outbox.drain()
