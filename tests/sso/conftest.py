"""SSO tests: a real devidp process and Warden's live server, wired to each other."""

import pytest
import requests

from accounts.sso import config
from tests import idp as devidp


@pytest.fixture(scope="session")
def idp(live_server, tmp_path_factory):
    server = devidp.start(tmp_path_factory.mktemp("devidp"), [f"{live_server.url}/oidc/callback/"])
    yield server
    server.stop()


@pytest.fixture
def sso(idp, settings, live_server):
    """Warden's SSO settings pointed at the provider; returns the live server's URL."""
    settings.WARDEN_OIDC_ISSUER = idp.issuer
    settings.WARDEN_OIDC_CLIENT_ID = devidp.CLIENT_ID
    settings.WARDEN_OIDC_CLIENT_SECRET = devidp.CLIENT_SECRET
    settings.WARDEN_OIDC_PROVISIONING = "create"
    settings.WARDEN_OIDC_LINK_VERIFIED_EMAIL = False
    config.forget_discovery()
    yield live_server.url
    config.forget_discovery()
    if idp.changed:  # the next test starts from the demo directory
        idp.reset()


@pytest.fixture
def browser_session():
    with requests.Session() as session:
        yield session

