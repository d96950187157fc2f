"""The real mlflow client against a live Warden over HTTP.

The server is pytest-django's ``live_server``: a real socket served by a thread of this process,
on the test database (PostgreSQL in CI), so fixtures can make users and tokens with the ORM.
Every test starts from a clean client: the mlflow client keeps per-process state (tracking URI,
active experiment and run, the server-info cache, autolog patches) that must not leak.
"""

import gc
import os
import threading
import time

# Before mlflow is imported: no usage reporting from test runs.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from mlflow.tracking import fluent  # noqa: E402
from mlflow.utils import request_utils, server_info  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402

from accounts.models import Role  # noqa: E402

CLIENT_ENV = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_WORKSPACE",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_RUN_ID",
    "MLFLOW_REGISTRY_URI",
)

# log_model infers pip requirements by loading the model in a subprocess (seconds per model);
# naming them keeps the suite quick and changes nothing on the wire.
PIP_REQUIREMENTS = ["scikit-learn", "skops"]


def _reset_client_state():
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.sklearn.autolog(disable=True)
    fluent._active_experiment_id = None
    with server_info._SERVER_INFO_CACHE_LOCK:
        server_info._SERVER_INFO_CACHE.clear()


@pytest.fixture(autouse=True)
def clean_mlflow_client(monkeypatch):
    """Start and end every compat test with a client that remembers nothing."""
    for name in CLIENT_ENV:
        monkeypatch.delenv(name, raising=False)
    # Fail fast: the client's default retries a 5xx for minutes with backoff.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    _reset_client_state()
    yield
    _reset_client_state()
    mlflow.set_tracking_uri(None)


def _close_client_connections():
    """Close the client's pooled keep-alive connections and let the server threads serving them end."""
    request_utils._cached_get_request_session.cache_clear()
    for obj in gc.get_objects():
        try:
            is_session = isinstance(obj, requests.Session)
        except ReferenceError:  # a dead weak proxy: nothing to close
            continue
        if is_session:
            obj.close()
    gc.collect()  # streamed responses nobody read to the end still hold their sockets
    deadline = time.monotonic() + 10
    while any("process_request_thread" in t.name for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture(scope="session")
def live_server_drained(live_server):
    """The live server, left only after the client hung up: a request thread still holding a
    keep-alive connection when the server stops would close SQLite's shared connection from the
    wrong thread (an error printed at exit)."""
    yield live_server
    _close_client_connections()


@pytest.fixture
def warden(live_server_drained, settings, tmp_path, monkeypatch):
    """The live server's URL, set as the client's tracking URI; artifacts go to a private folder."""
    settings.ARTIFACT_ROOT = str(tmp_path / "artifact-root")
    url = live_server_drained.url
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    mlflow.set_tracking_uri(url)
    return url


@pytest.fixture
def login(warden, make_token, monkeypatch):
    """login(user, workspace=None, **token_options): the client now calls as that user, with a new token."""

    def use(user, workspace: str | None = None, **token_options) -> str:
        token = make_token(user, **token_options)
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        if workspace:
            monkeypatch.setenv("MLFLOW_WORKSPACE", workspace)
        else:
            monkeypatch.delenv("MLFLOW_WORKSPACE", raising=False)
        fluent._active_experiment_id = None
        monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
        return token

    return use


@pytest.fixture
def alice(make_user, workspace):
    """A member of workspace "acme" (her default workspace)."""
    return make_user("alice", workspace, Role.MEMBER)


@pytest.fixture
def as_alice(login, alice):
    login(alice)
    return alice


@pytest.fixture(scope="session")
def iris():
    features, labels = load_iris(return_X_y=True)
    return features.astype(np.float64), labels


@pytest.fixture
def mlflow_client(warden):
    """An MlflowClient bound to the live server (it reads the token from the environment per call)."""
    return mlflow.MlflowClient(tracking_uri=warden)
