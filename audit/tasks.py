"""Celery tasks of the audit log: thin wrappers around sealing."""

import logging

from celery import shared_task

from audit import sealing

logger = logging.getLogger("warden.audit")


@shared_task(name="audit.seal_chain", acks_late=True, ignore_result=True)
def seal_chain(chain_key: int) -> int:
    return sealing.seal_chain(chain_key)


@shared_task(name="audit.seal_all", acks_late=True, ignore_result=True)
def seal_all() -> int:
    """Periodic sweep: seals what a lost or undelivered seal task left behind."""
    return sealing.seal_all()


def seal_chain_soon(chain_key: int) -> None:
    """After commit: seal in a worker (in-process when tasks are eager). A broker that is down
    only delays sealing until the periodic sweep; it never fails the request."""
    try:
        seal_chain.apply_async((chain_key,), retry=False)
    except Exception:  # broker unreachable: the events are safe in the database
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
