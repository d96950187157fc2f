"""One webhook attempt, on MLflow's wire: its headers, its signature, its envelope.

Headers: ``X-MLflow-Delivery-Id`` (the delivery's stable id, the same on every retry),
``X-MLflow-Timestamp`` (Unix seconds of this attempt) and, when the webhook has a secret,
``X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">``.

The request goes through the SSRF guard, never follows a redirect (a 3xx fails the delivery),
has connect and read timeouts, and does not read the response body: only its status is kept.
429 and 5xx answers and network errors are retried (not sooner than a ``Retry-After`` in
seconds asks, within the backoff's cap); other answers are final. A stored secret that no
configured key decrypts fails the delivery (logged, never sent unsigned).
"""

import base64
import hashlib
import hmac
import logging
import time

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.delivery import Result
from notifications.encryption import SecretUnreadable
from notifications.models import WebhookStatus
from notifications.webhooks.urlguard import GuardedAdapter, PeerRefused, UrlRefused, validate_url

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
RETRY_STATUSES = {429, 500, 502, 503, 504}

_session = None
logger = logging.getLogger(__name__)


def sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    message = f"{delivery_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def session() -> requests.Session:
    """One session per process: guarded pools, no proxies or .netrc from the environment."""
    global _session
    if _session is None:
        built = requests.Session()
        built.trust_env = False
        adapter = GuardedAdapter(max_retries=0)
        built.mount("http://", adapter)
        built.mount("https://", adapter)
        _session = built
    return _session


def post(url: str, body: str, delivery_id: str, secret: str) -> Result:
    try:
        validate_url(url)  # again at send time: the allowlist or DNS may have changed
    except UrlRefused:
        return Result(succeeded=False, error="UrlRefused")
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", DELIVERY_ID_HEADER: delivery_id, TIMESTAMP_HEADER: timestamp}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, delivery_id, timestamp, body)
    timeout = settings.WARDEN_WEBHOOK_TIMEOUT
    try:
        with session().post(url, data=body.encode(), headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True) as response:
            status = response.status_code
            retry_after = _seconds(response.headers.get("Retry-After"))
    except PeerRefused:
        return Result(succeeded=False, error="PeerRefused")
    except requests.Timeout as exc:
        return Result(succeeded=False, error=type(exc).__name__, retry=True)
    except requests.RequestException as exc:
        return Result(succeeded=False, error=type(exc).__name__[:64], retry=True)
    if 200 <= status < 300:
        return Result(succeeded=True, status_code=status)
    if 300 <= status < 400:
        return Result(succeeded=False, status_code=status, error="RedirectRefused")
    return Result(succeeded=False, status_code=status, error="HTTPError", retry=status in RETRY_STATUSES, retry_after=retry_after)


def _seconds(value) -> float | None:
    """Retry-After in seconds (the HTTP-date form is not honoured: the backoff applies)."""
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def send(delivery) -> Result:
    hook = delivery.webhook
    if hook is None or hook.deleted_timestamp is not None or (hook.status != WebhookStatus.ACTIVE and not delivery.is_test):
        return Result(succeeded=False, error="WebhookGone", skip=True)
    try:
        secret = hook.secret_plaintext()
    except (SecretUnreadable, ImproperlyConfigured) as exc:
        logger.error("Webhook %s (workspace %s): delivery %s not sent: %s", hook.webhook_id, hook.workspace_id, delivery.id, exc)
        return Result(succeeded=False, error="SecretUnreadable")
    return post(hook.url, delivery.body, str(delivery.id), secret)
