"""Fixtures for the governance tests: people of every role, teams, grants and a world of two
workspaces built through the services (so creator grants are what production writes)."""

import pytest

from accounts import services as account_services
from accounts.authentication import Principal
from accounts.models import Role
from accounts.permissions import Level
from accounts.workspaces import resolve_workspace


def context_for(user, workspace=None, token=None):
    principal = Principal(user=user, token=token, auth_method="token" if token else "session")
    return resolve_workspace(principal, workspace.slug if workspace else None)


@pytest.fixture
def ctx_for():
    return context_for


@pytest.fixture
def people(make_user, workspace):
    """One user per role in "acme"."""
    return {role: make_user(f"{role}-user", workspace, role) for role in Role.values}


@pytest.fixture
def make_team(workspace):
    def make(name, *members, in_workspace=None):
        team = account_services.team_create(actor=None, workspace=in_workspace or workspace, name=name)
        for user in members:
            account_services.team_member_add(actor=None, team=team, user=user)
        return team

    return make


@pytest.fixture
def grant():
    def give(obj, level: Level, *, user=None, team=None):
        return account_services.grant_set(actor=None, obj=obj, level=level, user=user, team=team)[0]

    return give


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    if code is not None:
        assert body["error_code"] == code, body
    return body
