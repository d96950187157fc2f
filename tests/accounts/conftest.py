"""Fixtures for the identity tests: users of each role and lookups of a token's row."""

import pytest

from accounts import tokens
from accounts.models import ApiToken, Role


@pytest.fixture
def viewer(make_user, workspace):
    return make_user("vic", workspace, Role.VIEWER)


@pytest.fixture
def token_row():
    """The ApiToken row behind a plaintext token."""

    def find(plaintext: str) -> ApiToken:
        prefix, _ = tokens.split(plaintext)
        return ApiToken.objects.get(prefix=prefix)

    return find
