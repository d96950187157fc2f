"""Secrets never reach the audit log: values under secret-looking keys are replaced."""

REDACTED = "[redacted]"
_SECRET_WORDS = ("password", "secret", "token_plaintext", "plaintext", "authorization", "api_key", "private_key", "client_secret")


def _is_secret_key(key) -> bool:
    lowered = str(key).lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact(value):
    if isinstance(value, dict):
        return {key: (REDACTED if _is_secret_key(key) and item not in (None, "") else redact(item)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value
