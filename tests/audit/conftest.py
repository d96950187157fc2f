"""Fixtures for the auditor tests: auditors of one workspace, a global one, and a log to read."""

import pytest

from accounts.models import Role
from audit import governance
from audit.sealing import seal_all
from audit.services import record
from tests.governance.rest import Rest


@pytest.fixture
def rest(client, make_token):
    """rest(user, **token_options): Warden's own API with a fresh token of that user."""

    def build(user, **token_options):
        return Rest(client, make_token(user, **token_options))

    return build


@pytest.fixture
def admin(make_user, workspace):
    return make_user("ada", workspace, Role.ADMIN)


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
