"""One command from a fresh checkout to a running Warden: migrate, bootstrap, print a token, serve.

With DATABASE_URL and REDIS_URL unset the settings give the embedded mode (a SQLite file and
artifacts under WARDEN_DATA_DIR, tasks run in-process), so nothing but Python is needed. The
process then becomes gunicorn (exec), so signals and the pid go straight to the server.
"""

import ipaddress
import os
import sys
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

GUNICORN_CONF = Path(settings.BASE_DIR) / "config" / "gunicorn.conf.py"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def client_url(host: str, port: int) -> str:
    """The URL a client on this machine uses: a wildcard bind is reached through loopback."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name
    return f"http://{host}:{port}"


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Command(BaseCommand):
    help = "Migrate, create the bootstrap admin and workspace, print an API token, then serve with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--admin", required=True, help="user name of the bootstrap admin")
        parser.add_argument("--workspace", default="default", help="workspace slug (default: default)")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
        parser.add_argument("--port", type=int, default=5000, help="port to listen on (default: 5000)")

    def handle(self, *args, admin, workspace, host, port, **options):
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        database = settings.DATABASES["default"]
        self.stderr.write(f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
        self.stderr.write(f"artifacts: {settings.ARTIFACT_ROOT}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        out = StringIO()
        call_command("bootstrap", admin=admin, workspace=workspace, print_token=True, stdout=out, stderr=self.stderr)
        token = out.getvalue().strip()
        if not token:
            raise CommandError("bootstrap printed no token")

        url = client_url(host, port)
        self.stdout.write(
            f"Warden on {url} (admin {admin!r}, workspace {workspace!r}).\n"
            f"API token for {admin!r} (shown once; every start makes a new one):\n"
            f"  {token}\n"
            "Point the mlflow client at it:\n"
            f"  export MLFLOW_TRACKING_URI={url} MLFLOW_TRACKING_TOKEN={token}\n"
        )
        if host not in LOOPBACK and "WARDEN_ALLOWED_HOSTS" not in os.environ:
            self.stderr.write("note: clients on other machines need WARDEN_ALLOWED_HOSTS to include this host's name")
        sys.stdout.flush()
        sys.stderr.flush()
        connections.close_all()

        os.environ["WARDEN_BIND"] = bind_address(host, port)
        argv = [sys.executable, "-m", "gunicorn", "--chdir", str(settings.BASE_DIR), "-c", str(GUNICORN_CONF), "config.wsgi"]
        os.execv(sys.executable, argv)
