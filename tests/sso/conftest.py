"""SSO tests: a real devidp process and Warden's live server, wired to each other."""

import os
import shutil
from pathlib import Path

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


# Headless Chromium from the system (Debian's package; scripts/browser.sh installs it), driven by
# pytest-playwright. Playwright cannot download browsers here, so its own builds are never used.
CHROMIUM = os.environ.get("WARDEN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "sso"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: CI runs the browser tests (scripts/browser.sh installs it)")
        pytest.skip("needs Chromium: apt-get install chromium (or set WARDEN_CHROMIUM)")
    # Playwright's sync API keeps an event loop in this thread from now on, for the rest of the
    # session; Django's guard would refuse every later ORM call of the tests (and the flushes).
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield {**browser_type_launch_args, "headless": True, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
    if saved is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def screenshot(page, request):
    """screenshot("name"): a PNG of the page under test-output/sso/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
