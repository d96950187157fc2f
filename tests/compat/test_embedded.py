"""`manage.py embedded` as a user runs it: a real gunicorn, a fresh SQLite file, the printed token."""

import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from django.conf import settings
from mlflow.exceptions import RestException

pytestmark = pytest.mark.compat

START_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, headers=None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """Start `manage.py embedded` in the embedded mode (no DATABASE_URL, no REDIS_URL); stop it by pid.

    One server for the module (a start migrates a new SQLite file); the last test stops it."""
    tmp_path = tmp_path_factory.mktemp("embedded")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "WARDEN_ARTIFACT_ROOT")}
    env.update(WARDEN_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "embedded", "--admin", "ops",
             "--workspace", "lab", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=tmp_path,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"embedded exited with {process.returncode}:\n{err_path.read_text()[-3000:]}")
            try:
                if get(port, "/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"embedded not healthy after {START_TIMEOUT_S}s:\n{err_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield {"port": port, "process": process, "stdout": out_path.read_text(), "data": tmp_path / "data"}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_embedded_prints_a_working_token_and_serves_the_real_client(embedded, monkeypatch, tmp_path):
    port = embedded["port"]
    exports = re.findall(r"^\s*export MLFLOW_TRACKING_URI=(\S+) MLFLOW_TRACKING_TOKEN=(\S+)$", embedded["stdout"], re.M)
    assert exports == [(f"http://127.0.0.1:{port}", exports[0][1])], embedded["stdout"]
    uri, token = exports[0]
    assert (embedded["data"] / "warden.sqlite3").is_file()  # the embedded default: a SQLite file
    assert get(port, "/health") == (200, b"OK")

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment("embedded-smoke")
    with mlflow.start_run() as run:
        mlflow.log_metric("loss", 0.25, step=7)
        mlflow.log_dict({"ok": True}, "result.json")
    client = mlflow.MlflowClient()
    assert client.get_run(run.info.run_id).info.user_id == "ops"
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")] == [(7, 0.25)]
    path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="result.json", dst_path=str(tmp_path))
    assert json.loads(Path(path).read_text()) == {"ok": True}
    assert {"Default", "embedded-smoke"} <= {e.name for e in mlflow.search_experiments()}
    assert experiment.experiment_id != "0"

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token[:-2] + "xx")
    with pytest.raises(RestException) as excinfo:
        mlflow.search_experiments()
    assert excinfo.value.error_code == "UNAUTHENTICATED"


def test_embedded_answers_keep_alive_requests_without_a_nagle_stall(embedded):
    """Gunicorn writes headers and body separately; with Nagle on, each response would wait ~40 ms
    for the client's delayed ACK. Its sockets carry TCP_NODELAY, so a trivial request is quick."""
    connection = http.client.HTTPConnection("127.0.0.1", embedded["port"], timeout=10)
    timings = []
    try:
        for _ in range(40):
            started = time.perf_counter()
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"OK")
            assert response.getheader("Connection", "keep-alive").lower() == "keep-alive"
            timings.append(time.perf_counter() - started)
    finally:
        connection.close()
    assert statistics.median(timings) < 0.030, [round(t * 1000, 1) for t in timings]


def test_embedded_stops_cleanly_on_sigterm(embedded):  # last: it ends the module's server
    process = embedded["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0
