"""Audit fixtures: a workspace with people of each role, their tokens and tracked objects;
auditors of one workspace and a global one; a small sealed log to read."""

import io
import itertools

import pytest

from accounts import services as account_services
from accounts.authentication import Principal
from accounts.models import ApiToken, Role
from audit import context, governance
from audit.models import AuditEvent
from audit.sealing import seal_all
from audit.services import record
from experiments import services as tracking
from experiments.artifacts.services import artifact_save
from registry import services as registry_services
from registry.sources import resolve_source
from tests.governance.conftest import context_for


@pytest.fixture(autouse=True)
def artifact_root(settings, tmp_path):
    root = tmp_path / "artifacts"
    root.mkdir()
    settings.ARTIFACT_ROOT = str(root)
    return root


class World:
    """ada (admin, acting through her token), max (maintainer), mia (member), vic (viewer),
    bob (not a member yet), a service account, and objects created by mia."""

    def __init__(self, workspace, make_user):
        self.workspace = workspace
        self.ada = make_user("ada", workspace, Role.ADMIN)
        self.max = make_user("max", workspace, Role.MAINTAINER)
        self.mia = make_user("mia", workspace, Role.MEMBER)
        self.vic = make_user("vic", workspace, Role.VIEWER)
        self.bob = make_user("bob")
        self.bot = account_services.service_account_create(actor=self.ada, workspace=workspace, username="ci-bot")
        self.ada_token, self.ada_secret = account_services.token_create(actor=self.ada, user=self.ada, name="ada-cli")
        self.bot_token, _ = account_services.token_create(actor=self.ada, user=self.bot, name="bot", workspace=workspace)
        self.baseline = 0
        self._names = itertools.count(1)

    def ctx(self, user):
        return context_for(user, self.workspace)

    def experiment(self, name="exp"):
        return tracking.experiment_create(actor=self.mia, workspace=self.workspace, name=name)

    def run(self, experiment=None):
        return tracking.run_create(actor=self.mia, experiment=experiment or self.experiment(f"runs-{next(self._names)}"))

    def logged_model(self, run=None):
        run = run or self.run()
        return tracking.logged_model_create(actor=self.mia, experiment=run.experiment, source_run=run)

    def registered_model(self, name="clf"):
        return registry_services.registered_model_create(actor=self.mia, workspace=self.workspace, name=name)

    def version(self, model=None):
        model = model or self.registered_model()
        run = self.run()
        artifact_save(actor=self.mia, run=run, path="model/MLmodel", stream=io.BytesIO(b"flavors: {}"), expected_size=11)
        source = resolve_source(self.ctx(self.mia), f"runs:/{run.run_uuid}/model", run_id=run.run_uuid)
        return registry_services.model_version_create(actor=self.mia, model=model, source=source)

    def mark(self):
        """Events written from here on are the ones a case is judged by."""
        self.baseline = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def events(self, action=None):
        rows = AuditEvent.objects.filter(pk__gt=self.baseline).order_by("pk")
        return list(rows.filter(action=action) if action else rows)


@pytest.fixture
def world(db, workspace, make_user):
    return World(workspace, make_user)


def principal_context(user, token: ApiToken | None, method="token", request_id="req-test"):
    """The audit context a request of ``user`` (through ``token``) would have opened."""
    return context.AuditContext(
        source_ip="192.0.2.10",
        user_agent="pytest",
        request_id=request_id,
        principal=Principal(user=user, token=token, auth_method=method),
    )


@pytest.fixture
def audit_inserts():
    """How many statements of a captured block wrote to the audit log."""

    def count(captured) -> int:
        return sum(1 for query in captured.captured_queries if query["sql"].startswith('INSERT INTO "audit_auditevent"'))

    return count


@pytest.fixture
def auditor(make_user, workspace, admin):
    """Audits "acme" and is a member of nothing."""
    user = make_user("audrey")
    governance.auditor_grant(actor=admin, user=user, workspace=workspace)
    return user


@pytest.fixture
def root(make_user):
    return make_user("root", is_superuser=True, is_staff=True)


@pytest.fixture
def log(workspace, other_workspace, member):
    """A small log in both workspaces and one sign-in of no workspace, sealed."""
    for number in range(5):
        record("experiment.created", workspace=workspace, actor=member, target_type="experiment", target_id=str(number))
    record("experiment.deleted", workspace=workspace, actor=member, target_type="experiment", target_id="3",
           changes={"before": {"lifecycle": "active", "name": "three"}, "after": {"lifecycle": "deleted", "name": "three"}})
    record("grant.changed", workspace=workspace, actor=member, target_type="experiment", target_id="1", outcome="denied")
    record("experiment.created", workspace=other_workspace, target_type="experiment", target_id="9")
    record("auth.login_failed", actor_name="=cmd|' /C calc'!A0", outcome="denied")
    seal_all()
