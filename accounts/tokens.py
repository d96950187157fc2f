"""The API token format: ``wdn_<prefix>_<secret>``.

The prefix finds the row by an index; the secret is checked against a SHA-256 digest. Tokens
carry 256 bits of randomness, so a fast digest is safe and keeps authentication cheap.
"""

import hashlib
import hmac
import secrets

TOKEN_MARK = "wdn"
PREFIX_BYTES = 6
SECRET_BYTES = 32
_HEX = frozenset("0123456789abcdef")


def generate() -> tuple[str, str, str]:
    """Return (plaintext token, lookup prefix, digest)."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return f"{TOKEN_MARK}_{prefix}_{secret}", prefix, digest_of(secret)


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(token: str) -> tuple[str, str] | None:
    """Return (prefix, secret) of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_MARK or len(parts[1]) != PREFIX_BYTES * 2 or not parts[2]:
        return None
    if not all(char in _HEX for char in parts[1]):  # the prefix reaches SQL: only what generate() makes
        return None
    return parts[1], parts[2]


def matches(secret: str, digest: str) -> bool:
    return hmac.compare_digest(digest_of(secret), digest)
