"""Fixtures for notifications: a real HTTP receiver on loopback, and webhook-ready settings.

``receiver`` is an HTTP server thread on 127.0.0.1 (an allowlisted host, the only way a
loopback address may be called). It records every request (path, headers, body) and answers
from a script: a list of status codes, one per request, then 200; a 3xx comes with a Location
header pointing back at the receiver, so a followed redirect would show up as a request. A
``(seconds, status)`` entry answers after a pause (a slow receiver), a
``{"status": ..., "headers": {...}}`` entry adds headers.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import Role


class Receiver:
    def __init__(self):
        self.requests = []
        self.script = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = receiver.script.pop(0) if receiver.script else 200
                extra = {}
                if isinstance(status, tuple):
                    pause, status = status
                    time.sleep(pause)
                elif isinstance(status, dict):
                    status, extra = status["status"], status["headers"]
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                if 300 <= status < 400:
                    self.send_header("Location", f"{receiver.url}/redirected")
                reply = b"receiver-private-reply"
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"the receiver got {len(self.requests)} of {count} requests in {timeout}s")

    def payloads(self) -> list:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def webhook_settings(settings):
    settings.WARDEN_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WARDEN_WEBHOOK_RETRY_BASE = 0.2
    settings.WARDEN_WEBHOOK_TIMEOUT = 5.0
    return settings


@pytest.fixture
def admin(make_user, workspace):
    return make_user("ada", workspace, Role.ADMIN, email="ada@example.com")


@pytest.fixture
def admin_api(wire, admin):
    return wire(admin, "acme")


def event_json(name: str) -> dict:
    entity, _, action = name.partition(".")
    return {"entity": entity.upper(), "action": action.upper()}


def create_webhook(api, url, events=("model_version.created",), **fields):
    body = {"name": fields.pop("name", "hook"), "url": url, "events": [event_json(e) for e in events], **fields}
    response = api.post("webhooks", body)
    assert response.status_code == 200, response.content
    return response.json()["webhook"]
