"""The repository's shape: package names, packaging, migrations, system checks and the CI contract."""

import io
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR)
SKIP_DIRS = {".git", ".venv", "var", "build", "dist", "node_modules", "__pycache__", ".pytest_cache"}


def top_level_packages() -> list[str]:
    return sorted(
        p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in SKIP_DIRS and (p / "__init__.py").is_file()
    )


def top_level_modules() -> list[str]:
    return sorted(p.stem for p in ROOT.glob("*.py"))


def test_there_are_top_level_packages_to_check():
    assert {"config", "accounts", "experiments", "registry", "audit", "tests"} <= set(top_level_packages())


@pytest.mark.parametrize("name", top_level_packages() + top_level_modules())
def test_no_top_level_name_shadows_the_standard_library(name):
    # e.g. a package named "platform" breaks `import uuid`, and with it Django, Celery and gunicorn.
    assert name not in sys.stdlib_module_names, f"top-level {name!r} shadows the standard library module"


def test_every_application_package_is_installed_by_pip():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = {pattern.rstrip("*") for pattern in patterns}
    missing = set(top_level_packages()) - shipped - {"tests"}
    assert not missing, f"add {sorted(missing)} to [tool.setuptools.packages.find] include in pyproject.toml"


@pytest.mark.django_db
def test_migrations_match_the_models():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"models changed without a migration (makemigrations exit {exit_.code}):\n{out.getvalue()}")


def test_django_system_checks_pass():
    call_command("check", fail_level="WARNING")


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme)
    assert match, "README.md must keep the test command in a fenced block after <!-- test-command -->"
    command = match.group(1).strip()
    assert command.endswith(".venv/bin/pytest"), command
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "README.md" in ci, ".ci/run must run the README's command"
    assert readme.index("<!-- test-command -->") < readme.index("## "), "the commands open the README"


def test_no_file_names_this_checkout_or_home_directory():
    """Paths of one machine do not belong in the repository."""
    # An absolute path starts a string or a word ("/proc/self/root/..." is not the home folder "/root").
    needles = [re.compile(r"(?<![\w./-])" + re.escape(str(p)) + "/") for p in (ROOT, Path.home())]
    offenders = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder) / name
            if path.suffix not in {".py", ".md", ".toml", ".yml", ".yaml", ".sh", ".cfg", ".txt", ".html", ".json", ""}:
                continue
            try:
                text = path.read_text()
            except (UnicodeDecodeError, OSError):
                continue
            offenders += [f"{path.relative_to(ROOT)}: {n.pattern}" for n in needles if n.search(text)]
    assert not offenders


def test_the_gunicorn_config_reads_the_environment():
    code = "import runpy, json; c = runpy.run_path('config/gunicorn.conf.py'); print(json.dumps({k: c[k] for k in %r}))"
    keys = ["bind", "worker_class", "workers", "threads", "keepalive", "accesslog", "control_socket_disable"]
    env = {**os.environ, "WARDEN_BIND": "0.0.0.0:8000", "WARDEN_WORKERS": "3"}
    env.pop("WARDEN_ACCESS_LOG", None)
    result = subprocess.run(
        [sys.executable, "-c", code % keys], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (
        '{"bind": ["0.0.0.0:8000"], "worker_class": "gthread", "workers": 3, "threads": 8, "keepalive": 5, '
        '"accesslog": null, "control_socket_disable": true}'
    )


def test_redis_answers_when_configured():
    """CI sets REDIS_URL; a configured Redis that does not answer is a broken setup, not a skip."""
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set (embedded mode: no Redis needed)")
    import redis

    assert redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5).ping() is True
