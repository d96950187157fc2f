#!/usr/bin/env python3
"""What exporting the audit log costs: rows/s and the serving worker's memory over 1,000,000 events.

usage: .venv/bin/python bench/audit_export_bench.py [--rows 1000000] [--db-url postgres://...]
                                                   [--port 0] [--reset] [--keep-server]

1. Creates the database if needed (default ``postgres://postgres@127.0.0.1:5432/warden_audit_bench``),
   migrates it, and makes a workspace ``bench`` with an auditor (an ordinary user holding an
   ``AuditorGrant`` on it, not a superuser) and a read-only API token for them.
2. Fills the workspace's log with ``--rows`` events in a few set-based INSERT ... SELECT FROM
   generate_series statements (with sequence numbers and hash-shaped values, so the rows look
   sealed and the server does not seal them in the request; they are not a verifiable chain).
3. Starts Warden with gunicorn on 127.0.0.1 (one gthread worker, so its process is the one
   serving), then streams the CSV and JSONL exports through HTTP with the auditor's token, and a
   tenth of the range as CSV for comparison (after one empty export that warms the worker up:
   imports, URL resolver, first queries). While each export streams, a thread samples the
   worker's resident memory (``VmRSS`` of /proc/<pid>/status) every 50 ms.
4. Prints rows/s, MB/s, the worker's RSS before, its peak during each export, and the growth;
   stops gunicorn by its process id.

Flat memory means the peak during the 1,000,000-row export is about the peak during the
100,000-row one. Standard library plus Warden's own dependencies (psycopg, requests).
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "audit-export-bench-only"
BATCH = 250_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str, reset: bool) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def environment(url: str) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "WARDEN_SECRET_KEY": SECRET, "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.pop("REDIS_URL", None)  # tasks in-process: the benchmark needs no broker
    return env


def setup_django(env: dict) -> None:
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "WARDEN_SECRET_KEY", "DJANGO_SETTINGS_MODULE")})
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def prepare(rows: int) -> tuple[str, int]:
    """Workspace, auditor, token; fill the log up to ``rows`` events. Returns (token, events)."""
    from django.db import connection

    from accounts import services as account_services
    from accounts.models import User, Workspace
    from audit.models import AuditChain, AuditEvent, AuditorGrant

    workspace = Workspace.objects.filter(slug="bench").first() or account_services.workspace_create(actor=None, slug="bench", name="Bench")
    auditor, _ = User.objects.get_or_create(username="bench-auditor")
    AuditorGrant.objects.get_or_create(user=auditor, workspace=workspace)
    _, token = account_services.token_create(actor=None, user=auditor, name="bench", read_only=True)
    have = AuditEvent.objects.filter(workspace=workspace, action__startswith="bench.").count()
    # The workspace's own events (its creation, the grant) come first in its chain: continue after them.
    from audit.sealing import seal_chain

    seal_chain(workspace.pk)
    offset = AuditEvent.objects.filter(workspace=workspace).exclude(action__startswith="bench.").count()
    started = time.monotonic()
    with connection.cursor() as cursor:
        while have < rows:
            count = min(BATCH, rows - have)
            cursor.execute(
                """
                INSERT INTO audit_auditevent (time, workspace_id, workspace_slug, actor_id, actor_name, actor_kind, token_id,
                    auth_method, source_ip, user_agent, client_version, request_id, action, target_type, target_id, target_name,
                    changes, outcome, error_code, seq, prev_hash, hash)
                SELECT timestamptz '2026-01-01' + g * interval '1 second', %(ws)s, 'bench', %(uid)s, 'bench-user', 'token', 1,
                    'token', '10.0.0.1', 'mlflow-python-client/3.17.2', '3.17.2', md5(g::text),
                    (ARRAY['bench.run.created', 'bench.run.updated', 'bench.experiment.created', 'bench.grant.changed'])[1 + g %% 4],
                    'run', g::text, 'run-' || g,
                    jsonb_build_object('before', jsonb_build_object('status', 'RUNNING'),
                                       'after', jsonb_build_object('status', 'FINISHED', 'note', '=HYPERLINK("x")')),
                    CASE WHEN g %% 50 = 0 THEN 'denied' ELSE 'success' END, '', g + %(offset)s,
                    encode(sha256((g - 1)::text::bytea), 'hex'), encode(sha256(g::text::bytea), 'hex')
                FROM generate_series(%(first)s, %(last)s) AS g
                """,
                {"ws": workspace.pk, "uid": auditor.pk, "first": have + 1, "last": have + count, "offset": offset},
            )
            have += count
            print(f"  filled {have:,} events ({time.monotonic() - started:.1f} s)", flush=True)
        cursor.execute("ANALYZE audit_auditevent")
    last = AuditEvent.objects.filter(workspace=workspace).order_by("-seq").values_list("seq", "hash").first()
    AuditChain.objects.update_or_create(chain_key=workspace.pk, defaults={"last_seq": last[0], "last_hash": last[1]})
    return token, have


def start_server(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    env = {**env, "WARDEN_BIND": f"127.0.0.1:{port}", "WARDEN_WORKERS": "1", "WARDEN_THREADS": "2", "WARDEN_TIMEOUT": "600"}
    log = open(log_path, "ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {log_path}")
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def worker_pid(master: int) -> int:
    for _ in range(100):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:
                    return int(entry.name)
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker found")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def export(port: int, token: str, pid: int, params: dict) -> dict:
    import requests

    peak = [rss_kb(pid)]
    before = peak[0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    size = lines = 0
    with requests.get(
        f"http://127.0.0.1:{port}/api/v1/audit/events/export", params=params, stream=True,
        headers={"Authorization": f"Bearer {token}"}, timeout=600,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    rows = lines - (1 if params["format"] == "csv" else 0)
    return {"rows": rows, "seconds": elapsed, "bytes": size, "rss_before_kb": before, "rss_peak_kb": peak[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/warden_audit_bench")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the benchmark database first")
    parser.add_argument("--log", default="audit-export-bench.log", help="gunicorn's log file")
    args = parser.parse_args()

    env = environment(args.db_url)
    ensure_database(args.db_url, args.reset)
    print("migrating ...", flush=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup_django(env)
    token, events = prepare(args.rows)
    port = args.port or free_port()
    server = start_server(env, port, Path(args.log).resolve())
    try:
        pid = worker_pid(server.pid)
        tenth = time_after_seconds(0), time_after_seconds(events // 10 + 1)
        runs = [
            ("csv, 1/10 of the range", {"format": "csv", "workspace": "bench", "since": tenth[0], "until": tenth[1]}),
            ("csv, whole range", {"format": "csv", "workspace": "bench"}),
            ("jsonl, whole range", {"format": "jsonl", "workspace": "bench"}),
        ]
        export(port, token, pid, {"format": "csv", "workspace": "bench", "action": "nothing.matches"})  # warm the worker up
        print(f"\nWarden on 127.0.0.1:{port}, gunicorn worker pid {pid}, {events:,} events in the workspace\n")
        print("| export | rows | seconds | rows/s | MB/s | worker RSS before (MB) | peak RSS during (MB) | growth (MB) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, params in runs:
            result = export(port, token, pid, params)
            mb = result["bytes"] / 1e6
            print(
                f"| {label} | {result['rows']:,} | {result['seconds']:.1f} | {result['rows'] / result['seconds']:,.0f} | "
                f"{mb / result['seconds']:.1f} | {result['rss_before_kb'] / 1024:.1f} | {result['rss_peak_kb'] / 1024:.1f} | "
                f"{(result['rss_peak_kb'] - result['rss_before_kb']) / 1024:.1f} |",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def time_after_seconds(seconds: int) -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)).isoformat()


if __name__ == "__main__":
    main()
