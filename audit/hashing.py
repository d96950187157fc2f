"""The chain hash of an audit event: an HMAC-SHA-256 over the previous hash and the event.

Keyed, so a forger with write access to the table but not to the server's key cannot compute
a hash that verifies. The key is ``WARDEN_AUDIT_CHAIN_KEY`` (default: derived from the secret key).
"""

import hashlib
import hmac
import json

from django.conf import settings

# Every field an auditor relies on; changing any of them breaks the chain from that event on.
CHAINED_FIELDS = (
    "id", "time", "workspace_id", "workspace_slug", "actor_id", "actor_name", "actor_kind", "token_id",
    "auth_method", "source_ip", "user_agent", "client_version", "request_id", "action", "target_type",
    "target_id", "target_name", "changes", "outcome", "error_code",
)


def _key() -> bytes:
    configured = getattr(settings, "WARDEN_AUDIT_CHAIN_KEY", "")
    if configured:
        return configured.encode()
    return hashlib.sha256(b"warden.audit.chain:" + settings.SECRET_KEY.encode()).digest()


def canonical(event, seq: int) -> bytes:
    values = {name: getattr(event, name) for name in CHAINED_FIELDS}
    values["seq"] = seq
    values["time"] = event.time.isoformat(timespec="microseconds")
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_hash(event, seq: int, prev_hash: str) -> str:
    return hmac.new(_key(), prev_hash.encode() + b"\n" + canonical(event, seq), hashlib.sha256).hexdigest()
