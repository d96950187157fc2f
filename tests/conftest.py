"""Shared fixtures: workspaces, users with roles, API tokens and a client for MLflow's wire API."""

import json
import os

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from accounts import services as account_services
from accounts.models import Role, User
from tests.browser import browser_type_launch_args, screenshot  # noqa: F401 (fixtures for every page test)

@receiver(connection_created)
def _allow_test_flushes_of_the_audit_log(sender, connection, **kwargs):
    """Transactional tests end with a TRUNCATE of every table; the audit trigger refuses it
    unless the session opens the maintenance door (tests that check the trigger close it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET warden.audit_maintenance = 'on'")


ON_POSTGRES_REQUIRED = os.environ.get("CI") == "true" or os.environ.get("WARDEN_TEST_REQUIRE_POSTGRES") == "1"


def pytest_collection_modifyitems(config, items):
    """postgres_only tests skip on SQLite, saying why; CI fails rather than skip (see below)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def pytest_sessionstart(session):
    from django.conf import settings

    if ON_POSTGRES_REQUIRED and not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise pytest.UsageError("CI must run on PostgreSQL: DATABASE_URL is not a postgres:// URL")


class WireClient:
    """Speaks MLflow's REST API to the test server with a token, like the mlflow client does."""

    def __init__(self, client, token: str | None, workspace: str | None = None):
        self.client = client
        self.headers = {}
        if token:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if workspace:
            self.headers["HTTP_X_MLFLOW_WORKSPACE"] = workspace

    @staticmethod
    def _url(path: str) -> str:
        return path if path.startswith("/") else f"/api/2.0/mlflow/{path}"

    def get(self, path, params=None, **extra):
        return self.client.get(self._url(path), params or {}, **self.headers, **extra)

    def post(self, path, body=None, **extra):
        return self.client.post(
            self._url(path), json.dumps(body or {}), content_type="application/json", **self.headers, **extra
        )

    def patch(self, path, body=None, **extra):
        return self.client.patch(
            self._url(path), json.dumps(body or {}), content_type="application/json", **self.headers, **extra
        )

    def delete(self, path, body=None, **extra):
        data = json.dumps(body) if body is not None else ""
        return self.client.delete(self._url(path), data, content_type="application/json", **self.headers, **extra)

    def put_bytes(self, path, data: bytes, **extra):
        return self.client.put(self._url(path), data, content_type="application/octet-stream", **self.headers, **extra)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def workspace(db):
    return account_services.workspace_create(actor=None, slug="acme", name="Acme")


@pytest.fixture
def other_workspace(db):
    return account_services.workspace_create(actor=None, slug="globex", name="Globex")


@pytest.fixture
def make_user(db):
    def make(username, workspace=None, role=Role.MEMBER, **fields):
        user = User.objects.create_user(username=username, password=None, **fields)
        if workspace is not None:
            account_services.membership_set(actor=None, workspace=workspace, user=user, role=role)
            user.default_workspace = workspace
            user.save(update_fields=["default_workspace"])
        return user

    return make


@pytest.fixture
def make_token(db):
    def make(user, **options):
        _, plaintext = account_services.token_create(actor=None, user=user, name=options.pop("name", "test"), **options)
        return plaintext

    return make


@pytest.fixture
def wire(client, make_token):
    """Build a WireClient for a user: wire(user, workspace=None, **token_options)."""

    def build(user, workspace: str | None = None, **token_options):
        return WireClient(client, make_token(user, **token_options), workspace)

    return build


@pytest.fixture
def member(make_user, workspace):
    return make_user("mia", workspace, Role.MEMBER)


@pytest.fixture
def admin(make_user, workspace):
    return make_user("ada", workspace, Role.ADMIN)


@pytest.fixture
def rest(client, make_token):
    """rest(user, **token_options): Warden's own API (/api/v1/) with a fresh token of that user."""
    from tests.governance.rest import Rest

    def build(user, **token_options):
        return Rest(client, make_token(user, **token_options))

    return build


@pytest.fixture
def api(wire, member):
    """A member of workspace "acme" speaking the MLflow API with a write token."""
    return wire(member)


@pytest.fixture
def real_worker(request, transactional_db, tmp_path):
    """Start a real Celery worker (tests marked ``celery_worker``); tasks this test enqueues
    go to its own queue. Returns a ``tests.worker.Worker`` (``kill()``, ``start()``, ``log()``).
    ``@pytest.mark.celery_worker(env={...})`` adds environment variables (settings) for it."""
    from django.conf import settings

    from config.celery import app
    from tests.worker import Worker, new_queue

    marker = request.node.get_closest_marker("celery_worker")
    if not marker:
        raise pytest.UsageError("real_worker needs the celery_worker marker")
    if not settings.REDIS_URL:
        if ON_POSTGRES_REQUIRED:
            raise pytest.UsageError("celery_worker tests need REDIS_URL in CI")
        pytest.skip("needs Redis: set REDIS_URL=redis://... to run a real worker")
    queue = new_queue()
    saved = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    worker = Worker(queue, tmp_path / "worker.log", extra_env=marker.kwargs.get("env")).start()
    yield worker
    worker.stop()
    app.conf.task_default_queue = saved


@pytest.fixture(autouse=True)
def _celery_eager_unless_worker(request):
    """With REDIS_URL set (as in CI) tasks would wait in Redis for a worker that tests do not run:
    run them in-process instead, except in tests marked ``celery_worker`` that start a real one."""
    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
