"""Settings for the test suite: the real settings, with a throwaway secret key when none is set."""

import os

os.environ.setdefault("WARDEN_SECRET_KEY", "warden-test-suite-only")

from config.settings import *  # noqa: E402,F401,F403

# Test runs share one Redis: keep each run's cache entries apart (a test's worker shares its run's).
CACHES["default"]["KEY_PREFIX"] = os.environ.get("WARDEN_TEST_CACHE_PREFIX") or f"warden-test-{os.getpid()}"  # noqa: F405
