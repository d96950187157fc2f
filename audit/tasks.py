"""Celery tasks of the audit log: thin wrappers around sealing, export jobs and retention."""

import logging

from celery import shared_task
from django.core.cache import cache

from audit import sealing

logger = logging.getLogger("warden.audit")


@shared_task(name="audit.seal_chain", acks_late=True, ignore_result=True)
def seal_chain(chain_key: int) -> int:
    _pending_clear(chain_key)  # before reading: events committed from now on schedule a new task
    return sealing.seal_chain(chain_key)


@shared_task(name="audit.seal_all", acks_late=True, ignore_result=True)
def seal_all() -> int:
    """Periodic sweep: seals what a lost or undelivered seal task left behind."""
    return sealing.seal_all()


PENDING_SECONDS = 30  # after this a lost task no longer holds back new ones (the sweep seals meanwhile)


def _pending_key(chain_key: int) -> str:
    return f"audit:seal-pending:{chain_key}"


def _pending_clear(chain_key: int) -> None:
    try:
        cache.delete(_pending_key(chain_key))
    except Exception:  # cache down: a new task per commit is the worst case
        pass


def seal_chain_soon(chain_key: int) -> None:
    """After commit: seal in a worker (in-process when tasks are eager). While a seal task of
    the chain waits in the queue, later commits add none (it will seal their events too). A
    broker that is down only delays sealing until the periodic sweep; it never fails a request."""
    try:
        if not cache.add(_pending_key(chain_key), 1, timeout=PENDING_SECONDS):
            return
    except Exception:
        pass
    try:
        seal_chain.apply_async((chain_key,), retry=False)
    except Exception:  # broker unreachable: the events are safe in the database
        _pending_clear(chain_key)
        logger.warning("audit: could not enqueue sealing of chain %s; the periodic sweep will seal it", chain_key, exc_info=True)


@shared_task(name="audit.run_export", acks_late=True, ignore_result=True)
def run_export(export_id: int) -> None:
    from audit.exports import write_job

    write_job(export_id)


@shared_task(name="audit.purge_expired", acks_late=True, ignore_result=True)
def purge_expired() -> int:
    """Daily: remove sealed events older than each workspace's audit retention."""
    from audit.retention import purge_expired as purge

    return len(purge())
