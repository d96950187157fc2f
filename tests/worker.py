"""A real Celery worker process for tests marked ``celery_worker``.

It runs ``celery -A config worker`` against the Redis of ``REDIS_URL`` on a queue of its own
(so parallel test runs sharing one Redis never take each other's tasks), on the test database
and with the test's artifact root, so it sees what the test wrote and the test sees its work.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database the tests run on (pytest-django's test database)."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{conf['NAME']}"
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf["PASSWORD"] else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


class Worker:
    def __init__(self, queue: str, log_path: Path, extra_env: dict | None = None):
        self.queue = queue
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings_test",
                "DATABASE_URL": database_url(),
                "REDIS_URL": settings.REDIS_URL,
                "WARDEN_CELERY_QUEUE": self.queue,
                "WARDEN_ARTIFACT_ROOT": str(settings.ARTIFACT_ROOT),
                "WARDEN_SECRET_KEY": settings.SECRET_KEY,
                "WARDEN_DB_CONN_MAX_AGE": "0",
                "WARDEN_TEST_CACHE_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> "Worker":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--pool=prefork",
             "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", self.queue,
             "-n", f"{self.queue}@%h"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}:\n{self.log()}")
            if b"ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool): a crash, not a shutdown."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def new_queue() -> str:
    return f"warden-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
