"""Settings for the test suite: the real settings, with a throwaway secret key when none is set."""

import os

os.environ.setdefault("WARDEN_SECRET_KEY", "warden-test-suite-only")

from config.settings import *  # noqa: E402,F401,F403
