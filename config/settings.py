"""Warden settings, read from environment variables only (see README, "Configuration")."""

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("WARDEN_DEBUG", default=False)
DATA_DIR = Path(env.str("WARDEN_DATA_DIR", default=str(BASE_DIR / "var")))
EMBEDDED = not env.str("DATABASE_URL", default="")


def _secret_key() -> str:
    """Production must set WARDEN_SECRET_KEY; the embedded mode keeps a generated one on disk."""
    key = env.str("WARDEN_SECRET_KEY", default="")
    if key:
        return key
    if DEBUG or EMBEDDED:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file = DATA_DIR / "secret.key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        return key_file.read_text().strip()
    raise RuntimeError("WARDEN_SECRET_KEY must be set (or WARDEN_DEBUG=1 for development)")


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("WARDEN_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    "accounts.apps.WardenAdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files, never a CDN
    "guardian",
    "accounts",
    "experiments",
    "registry",
    "audit",
]

MIDDLEWARE = [
    "audit.context.AuditContextMiddleware",  # who and where, for the audit events of this request
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sso.middleware.SessionRefresh",  # SSO sessions re-check with the provider
    "accounts.routes.FailClosedMiddleware",  # a view without a permission decision never runs
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'warden.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("WARDEN_DB_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "accounts.sso.backend.WardenOIDCBackend",  # answers only on the OIDC callback
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian "AnonymousUser" row: anonymous callers never hold object permissions.
ANONYMOUS_USER_NAME = None
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise scans it at start

# Artifacts: a local folder by default. The server derives every storage location.
ARTIFACT_ROOT = env.str("WARDEN_ARTIFACT_ROOT", default=str(DATA_DIR / "artifacts"))

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Longer than the longest task, so a slow task is not delivered twice; a killed worker's task
# comes back after this long.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("WARDEN_CELERY_VISIBILITY_TIMEOUT", default=4 * 3600)}
CELERY_TASK_DEFAULT_QUEUE = env.str("WARDEN_CELERY_QUEUE", default="warden")
CELERY_BEAT_SCHEDULE = {
    # Seals audit events whose after-commit seal task was lost (broker down, worker killed).
    "audit-seal-sweep": {"task": "audit.seal_all", "schedule": 60.0},
}

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Warden API",
    "DESCRIPTION": "Warden's own API: workspaces, members, teams, grants, API tokens and the model registry's governance. "
    "Authenticate with an API token as a Bearer token.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "accounts.models.Role"},
}

# Key of the audit chain's HMAC; empty: derived from the secret key (rotate both together).
WARDEN_AUDIT_CHAIN_KEY = env.str("WARDEN_AUDIT_CHAIN_KEY", default="")

WARDEN_LOCAL_LOGIN = env.bool("WARDEN_LOCAL_LOGIN", default=True)
# Failed local sign-ins allowed per user name (and 4x that per client address) per window.
WARDEN_LOGIN_MAX_FAILURES = env.int("WARDEN_LOGIN_MAX_FAILURES", default=5)
WARDEN_LOGIN_LOCKOUT_SECONDS = env.int("WARDEN_LOGIN_LOCKOUT_SECONDS", default=900)

# Single sign-on (OpenID Connect); off while no issuer is set. See accounts/sso/config.py.
WARDEN_OIDC_ISSUER = env.str("WARDEN_OIDC_ISSUER", default="")
WARDEN_OIDC_CLIENT_ID = env.str("WARDEN_OIDC_CLIENT_ID", default="")
WARDEN_OIDC_CLIENT_SECRET = env.str("WARDEN_OIDC_CLIENT_SECRET", default="")
WARDEN_OIDC_SCOPES = env.str("WARDEN_OIDC_SCOPES", default="openid email profile")
WARDEN_OIDC_GROUPS_CLAIM = env.str("WARDEN_OIDC_GROUPS_CLAIM", default="groups")
WARDEN_OIDC_SIGN_ALGO = env.str("WARDEN_OIDC_SIGN_ALGO", default="RS256")
WARDEN_OIDC_LINK_VERIFIED_EMAIL = env.bool("WARDEN_OIDC_LINK_VERIFIED_EMAIL", default=False)
WARDEN_OIDC_PROVISIONING = env.str("WARDEN_OIDC_PROVISIONING", default="create")
WARDEN_OIDC_PROVIDER_NAME = env.str("WARDEN_OIDC_PROVIDER_NAME", default="single sign-on")
WARDEN_OIDC_TIMEOUT = env.int("WARDEN_OIDC_TIMEOUT", default=10)
WARDEN_OIDC_SESSION_REFRESH_SECONDS = env.int("WARDEN_OIDC_SESSION_REFRESH_SECONDS", default=900)

# mozilla-django-oidc's own settings, with its risky defaults overridden. Provider endpoints
# come from the issuer's discovery document at run time (accounts.sso.config), not from here.
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_TIMEOUT = WARDEN_OIDC_TIMEOUT
OIDC_VERIFY_SSL = True
OIDC_ALLOW_UNSECURED_JWT = False
OIDC_CREATE_USER = False  # provisioning is Warden's own policy (accounts.sso.provisioning)
OIDC_STORE_ID_TOKEN = True  # the hint of RP-initiated logout
OIDC_STORE_ACCESS_TOKEN = False
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = WARDEN_OIDC_SESSION_REFRESH_SECONDS
OIDC_REDIRECT_ALLOWED_HOSTS = []  # next= stays on the host the request came to
OIDC_EXEMPT_URLS = ["signin", "health"]

LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "home"
# How long a token's last-used time may lag behind its real last use (one UPDATE per window).
WARDEN_TOKEN_LAST_USED_RESOLUTION = env.int("WARDEN_TOKEN_LAST_USED_RESOLUTION", default=60)

# Request bodies of the MLflow API are JSON and small; artifact uploads stream and bypass this.
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("WARDEN_LOG_LEVEL", default="WARNING")},
}
