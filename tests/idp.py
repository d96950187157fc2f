"""The development identity provider (``devidp``) as a real server process for tests.

It runs on a free loopback port with its own SQLite file in the test's temporary folder, with
Warden's live server registered as its client; ``sign_in`` walks the real code flow with
``requests`` (Warden -> provider login form -> provider -> Warden's callback).
"""

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "warden"
CLIENT_SECRET = "warden-test-client-secret-not-for-production"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WARDEN_", "DATABASE_URL"))}
    env.update({"DEVIDP_DATA": str(data), "DJANGO_SETTINGS_MODULE": "devidp.settings", "PYTHONUNBUFFERED": "1"})
    return env


@dataclass
class DevIdp:
    url: str
    data: Path
    process: subprocess.Popen
    log_path: Path
    changed: bool = False

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def user(self, username: str, *options: str) -> None:
        """``python -m devidp user NAME ...``: disable, enable, change groups or e-mail."""
        self.changed = True
        subprocess.run(
            [sys.executable, "-m", "devidp", "user", username, *options],
            cwd=ROOT, env=_env(self.data), check=True, capture_output=True, timeout=60,
        )

    def reset(self) -> None:
        """``python -m devidp reset``: the demo users as they were."""
        subprocess.run([sys.executable, "-m", "devidp", "reset"], cwd=ROOT, env=_env(self.data), check=True, capture_output=True, timeout=60)
        self.changed = False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(data: Path, redirect_uris: list[str]) -> DevIdp:
    port = free_port()
    log_path = data / "devidp.log"
    command = [sys.executable, "-m", "devidp", "serve", "--port", str(port), "--client-secret", CLIENT_SECRET]
    for uri in redirect_uris:
        command += ["--redirect-uri", uri]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=_env(data), stdout=log, stderr=subprocess.STDOUT)
    idp = DevIdp(url=f"http://127.0.0.1:{port}", data=data, process=process, log_path=log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"devidp exited with {process.returncode}:\n{idp.log()}")
        try:
            if requests.get(f"{idp.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                return idp
        except requests.RequestException:
            pass
        time.sleep(0.1)
    idp.stop()
    raise RuntimeError(f"devidp did not answer within 60s:\n{idp.log()}")


def _field(html: str, name: str) -> str | None:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def sign_in(session: requests.Session, warden_url: str, username: str, password: str, next_url: str | None = None):
    """Start SSO at Warden, fill the provider's login form, follow the redirects back."""
    params = {"next": next_url} if next_url is not None else None
    page = session.get(f"{warden_url}/oidc/authenticate/", params=params, timeout=30)
    assert page.status_code == 200 and 'id="idp-signin"' in page.text, (page.status_code, page.url, page.text[:500])
    form = {"csrfmiddlewaretoken": _field(page.text, "csrfmiddlewaretoken"), "username": username, "password": password}
    if _field(page.text, "next") is not None:
        form["next"] = _field(page.text, "next")
    return session.post(page.url, data=form, headers={"Referer": page.url}, timeout=30)
