"""Encryption at rest for stored secrets (webhook signing secrets), with Fernet.

The current key is ``WARDEN_ENCRYPTION_KEY`` (a Fernet key); without one it is derived from
``SECRET_KEY`` with HKDF-SHA256 and a fixed context string, so changing the secret key changes
it too. ``WARDEN_ENCRYPTION_KEY_PREVIOUS`` lists older keys, which still decrypt: rotating is
setting a new key and moving the old one there (``rotate`` re-encrypts a value under the new key).
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CONTEXT = b"warden/encryption-at-rest/v1"


class SecretUnreadable(Exception):
    """A stored secret does not decrypt with any configured key (wrong or missing key)."""


def derived_key(secret_key: str) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=CONTEXT)
    return base64.urlsafe_b64encode(kdf.derive(secret_key.encode()))


def _fernet(key, setting: str) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{setting} must be a Fernet key (32 url-safe base64-encoded bytes).") from None


def keyring() -> MultiFernet:
    """The current key first (it encrypts), then the previous ones (they only decrypt)."""
    current = settings.WARDEN_ENCRYPTION_KEY or derived_key(settings.SECRET_KEY)
    previous = [k for k in settings.WARDEN_ENCRYPTION_KEY_PREVIOUS if k]
    return MultiFernet(
        [_fernet(current, "WARDEN_ENCRYPTION_KEY")] + [_fernet(k, "WARDEN_ENCRYPTION_KEY_PREVIOUS") for k in previous]
    )


def encrypt(plaintext: str) -> str:
    return keyring().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return keyring().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret does not decrypt with WARDEN_ENCRYPTION_KEY or WARDEN_ENCRYPTION_KEY_PREVIOUS."
        ) from None


def rotate(token: str) -> str:
    """The same secret, encrypted under the current key."""
    try:
        return keyring().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("A stored secret does not decrypt with any configured key.") from None
