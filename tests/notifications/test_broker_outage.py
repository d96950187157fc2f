"""Redis down: tracking keeps working, events wait in the outbox, and once Redis is back
beat's periodic drain fans them out and the worker delivers them.

The shared Redis of the test run is never touched: this test starts its own ``redis-server``
on a free loopback port, points this process's Celery app, a worker and a beat of its own at
it, stops it and starts it again. Beat ticks every half second here
(``WARDEN_OUTBOX_DRAIN_INTERVAL``), and keeps running through the outage.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from accounts.models import Role
from notifications import tasks
from notifications.models import Delivery, DeliveryStatus, OutboxEvent
from tests.notifications.conftest import create_webhook
from tests.notifications.test_worker import WORKER_ENV, ok, wait_until
from tests.worker import ROOT, Worker, new_queue

pytestmark = [pytest.mark.celery_worker, pytest.mark.usefixtures("webhook_settings")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        log = open(self.directory / "redis.log", "ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        wait_until(self.ping, timeout=10, message="private redis-server did not answer PING")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        assert not self.ping()


@pytest.fixture
def private_redis(tmp_path):
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://... to run a real worker")
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            raise pytest.UsageError("CI needs the redis-server binary for the broker-outage test")
        pytest.skip("needs the redis-server binary")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def use_broker(app, url):
    """Point this process's Celery app at ``url``, dropping pooled connections to the old one."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


class Beat:
    """``celery -A config beat`` with the worker's environment (database, broker, queue)."""

    def __init__(self, worker: Worker, directory):
        self.worker = worker
        self.log_path = directory / "beat.log"
        self.schedule = directory / "beat-schedule"
        self.process = None

    def start(self):
        env = {**self.worker.env(), "WARDEN_OUTBOX_DRAIN_INTERVAL": "0.5"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO", "-s", str(self.schedule)],
            cwd=ROOT, env=env, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_until(lambda: b"notifications.drain" in self.log_path.read_bytes(), timeout=30, message=self.log())
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(20)


@pytest.fixture
def outage_worker(private_redis, transactional_db, tmp_path):
    from config.celery import app

    saved_url, saved_queue = app.conf.broker_url, app.conf.task_default_queue
    queue = new_queue()
    app.conf.task_default_queue = queue
    use_broker(app, private_redis.url)
    worker = Worker(queue, tmp_path / "worker.log", extra_env={**WORKER_ENV, "REDIS_URL": private_redis.url}).start()
    worker.beat = Beat(worker, tmp_path).start()
    yield worker
    worker.beat.stop()
    worker.stop()
    use_broker(app, saved_url)
    app.conf.task_default_queue = saved_queue


def log_a_run(api, name):
    run = ok(api.post("runs/create", {"experiment_id": "0", "run_name": name}))["run"]["info"]
    metrics = [{"key": "loss", "value": 1 / (step + 1), "timestamp": 1000 + step, "step": step} for step in range(5)]
    ok(api.post("runs/log-batch", {"run_id": run["run_id"], "metrics": metrics, "params": [{"key": "lr", "value": "0.1"}]}))
    ok(api.post("runs/update", {"run_id": run["run_id"], "status": "FINISHED", "end_time": 2000}))
    history = api.get("metrics/get-history", {"run_id": run["run_id"], "metric_key": "loss"})
    assert history.status_code == 200
    assert len(json.loads(b"".join(history.streaming_content))["metrics"]) == 5
    return run


def test_logging_survives_redis_down_and_the_outbox_drains_when_it_returns(
    outage_worker, private_redis, wire, make_user, workspace, api, receiver
):
    from config.celery import app

    admin = wire(make_user("ada", workspace, Role.ADMIN), "acme")
    create_webhook(admin, receiver.url + "/hook", events=("run.finished",), secret="k")
    log_a_run(api, "before")
    receiver.wait_for(1)  # the broker and the worker work

    private_redis.stop()
    started = time.monotonic()
    during = [log_a_run(api, f"during-{n}") for n in range(2)]  # every call answers 200
    print(f"8 MLflow calls with the broker down took {time.monotonic() - started:.2f}s")
    waiting = OutboxEvent.objects.filter(dispatched_at__isnull=True, event_type="run.finished")
    assert sorted(e.payload["run_id"] for e in waiting) == sorted(r["run_id"] for r in during)
    time.sleep(0.5)
    assert len(receiver.requests) == 1

    assert outage_worker.beat.process.poll() is None  # beat lives through the outage

    private_redis.start()  # no one pokes anything: beat's next drain finds the waiting events
    receiver.wait_for(3, timeout=60)
    delivered = {p["data"]["run_id"] for p in receiver.payloads()}
    assert {r["run_id"] for r in during} <= delivered
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 3, message=outage_worker.log())
    use_broker(app, private_redis.url)  # connections pooled before the outage are dead
    assert tasks.enqueue(tasks.drain)  # and this process enqueues again
