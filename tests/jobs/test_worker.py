"""The real worker fixture: a task enqueued after commit runs in another process."""

import time

import pytest
from django.db import transaction

from audit.models import AuditEvent
from audit.services import record

pytestmark = pytest.mark.celery_worker


def test_a_real_worker_seals_audit_events_after_commit(real_worker, workspace):
    with transaction.atomic():
        event = record("experiment.created", workspace=workspace, target_type="experiment", target_id="1")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        event = AuditEvent.objects.get(pk=event.pk)
        if event.seq is not None:
            break
        time.sleep(0.1)
    # the last of the workspace's events (creating the workspace wrote the first)
    assert event.seq == AuditEvent.objects.filter(workspace=workspace).count() and event.hash, real_worker.log()
