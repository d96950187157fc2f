"""Browser fixtures shared by the page tests (tests/sso, tests/audit): headless Chromium from the
system (Debian's package; scripts/browser.sh installs it), driven by pytest-playwright.
Playwright cannot download browsers here, so its own builds are never used. tests/conftest.py
imports these fixtures so that every test directory can use them."""

import os
import shutil
from pathlib import Path

import pytest

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
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"


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
    """screenshot("name"): a PNG of the page under test-output/<test directory>/ (e.g. sso, audit)."""
    folder = OUTPUT / Path(request.node.path).parent.name
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> Path:
        path = folder / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
