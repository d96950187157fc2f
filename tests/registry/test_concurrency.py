"""Version numbers stay gap-free and unique when many clients register at once (PostgreSQL)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from registry.models import ModelVersion
from tests.conftest import WireClient
from tests.registry.conftest import ok

THREADS = 8
PER_THREAD = 4


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_version_creation_is_gap_free(api, make_token, member, workspace, make_logged_model):
    ok(api.post("registered-models/create", {"name": "busy"}))
    logged = make_logged_model(workspace, user=member)
    token = make_token(member)
    barrier = threading.Barrier(THREADS)
    answers, failures = [], []

    def register():
        wire = WireClient(Client(), token)
        try:
            barrier.wait()
            for _ in range(PER_THREAD):
                response = wire.post("model-versions/create", {"name": "busy", "source": f"models:/{logged.model_id}"})
                if response.status_code == 200:
                    answers.append(int(response.json()["model_version"]["version"]))
                else:
                    failures.append(response.content)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    total = THREADS * PER_THREAD
    assert failures == []
    assert sorted(answers) == list(range(1, total + 1))
    assert sorted(ModelVersion.objects.values_list("version", flat=True)) == list(range(1, total + 1))
