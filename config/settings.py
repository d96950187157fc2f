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
    "notifications",
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
# Enqueueing happens after commit in the request: a broker that is down must fail fast (the
# outbox keeps the work), never hang the request.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("WARDEN_CELERY_CONNECT_TIMEOUT", default=2.0)
# One connection attempt per publish (kombu would otherwise retry until the timeout); the worker's
# own reconnect loop (broker_connection_retry) is unaffected.
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    {
        "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
        "socket_timeout": 5 * CELERY_BROKER_CONNECTION_TIMEOUT,
        "max_retries": 0,
    }
)
CELERY_BEAT_SCHEDULE = {
    # Seals audit events whose after-commit seal task was lost (broker down, worker killed).
    "audit-seal-sweep": {"task": "audit.seal_all", "schedule": 60.0},
    # Removes sealed audit events older than each workspace's audit retention (default: none).
    "audit-retention-purge": {"task": "audit.purge_expired", "schedule": 24 * 3600.0},
    # Fans out outbox events and (re)sends deliveries whose task was lost or whose retry is due.
    "notifications-drain": {"task": "notifications.drain", "schedule": env.float("WARDEN_OUTBOX_DRAIN_INTERVAL", default=30.0)},
    # Governed deletion: purge what stayed deleted past its workspace's retention, sweep leftovers.
    "purge-deleted": {"task": "experiments.purge", "schedule": float(env.int("WARDEN_PURGE_INTERVAL_SECONDS", default=3600))},
}

# Governed deletion (experiments.purge). A deleted object stays restorable this many days, unless
# its workspace sets its own period.
WARDEN_DEFAULT_RETENTION_DAYS = env.int("WARDEN_DEFAULT_RETENTION_DAYS", default=30)
# Objects claimed, stripped of their files and deleted per transaction.
WARDEN_PURGE_BATCH_SIZE = env.int("WARDEN_PURGE_BATCH_SIZE", default=500)
# Artifact folders no row owns are removed once untouched this long; so are abandoned uploads.
WARDEN_PURGE_ORPHAN_GRACE_SECONDS = env.int("WARDEN_PURGE_ORPHAN_GRACE_SECONDS", default=24 * 3600)
WARDEN_UPLOAD_ABANDON_SECONDS = env.int("WARDEN_UPLOAD_ABANDON_SECONDS", default=24 * 3600)
# Fault injection for crash-recovery tests and drills: after removing the files of this many
# objects, the purge sleeps WARDEN_PURGE_PAUSE_SECONDS (0: never).
WARDEN_PURGE_PAUSE_AFTER = env.int("WARDEN_PURGE_PAUSE_AFTER", default=0)
WARDEN_PURGE_PAUSE_SECONDS = env.float("WARDEN_PURGE_PAUSE_SECONDS", default=600.0)

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "accounts.authentication.SessionAuthentication",
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
# Where background audit exports write their files (private: owner-only permissions).
WARDEN_AUDIT_EXPORT_DIR = env.str("WARDEN_AUDIT_EXPORT_DIR", default=str(DATA_DIR / "audit-exports"))

# Notifications (``notifications``): webhooks and e-mail, fed by the outbox.
# Hosts (exact names or IP literals) webhooks may reach although they are not public, over http
# too: for development and tests only. Everything else must be https to public addresses.
# Encryption at rest of stored secrets (webhook signing secrets): Fernet keys. Empty: derived from
# SECRET_KEY. Older keys still decrypt after a rotation (comma-separated, newest first).
WARDEN_ENCRYPTION_KEY = env.str("WARDEN_ENCRYPTION_KEY", default="")
WARDEN_ENCRYPTION_KEY_PREVIOUS = env.list("WARDEN_ENCRYPTION_KEY_PREVIOUS", default=[])
WARDEN_WEBHOOK_ALLOWED_HOSTS = [h.lower() for h in env.list("WARDEN_WEBHOOK_ALLOWED_HOSTS", default=[])]
WARDEN_WEBHOOK_TIMEOUT = env.float("WARDEN_WEBHOOK_TIMEOUT", default=10.0)  # seconds, connect and read each
WARDEN_WEBHOOK_MAX_ATTEMPTS = env.int("WARDEN_WEBHOOK_MAX_ATTEMPTS", default=6)
# Seconds before the first retry; each further retry waits twice as long, up to an hour.
WARDEN_WEBHOOK_RETRY_BASE = env.float("WARDEN_WEBHOOK_RETRY_BASE", default=30.0)
# Seconds the drain leaves new outbox work to its own after-commit task.
WARDEN_OUTBOX_DRAIN_GRACE = env.float("WARDEN_OUTBOX_DRAIN_GRACE", default=5.0)
# Days outbox events, deliveries and their attempt log are kept.
WARDEN_NOTIFICATION_RETENTION_DAYS = env.int("WARDEN_NOTIFICATION_RETENTION_DAYS", default=30)
# E-mail: a django-environ e-mail URL (smtp+tls://user:pass@host:587, consolemail://, ...).
vars().update(env.email_url("WARDEN_EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("WARDEN_EMAIL_FROM", default="warden@localhost")

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
