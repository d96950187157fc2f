"""Failed local sign-ins, counted per user name and per client address in the cache.

A fixed window: the first failure opens it for ``WARDEN_LOGIN_LOCKOUT_SECONDS``; once a count
reaches its limit (``WARDEN_LOGIN_MAX_FAILURES`` per name, four times that per address) further
attempts are refused until the window closes, even with the right password. Counting uses the
cache's atomic increment, so concurrent guesses on several web processes (Redis) add up.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

IP_FACTOR = 4


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    limit = settings.WARDEN_LOGIN_MAX_FAILURES
    return [(f"warden:login-fail:user:{name}", limit), (f"warden:login-fail:ip:{address or '-'}", limit * IP_FACTOR)]


def retry_after(username: str, address: str) -> int | None:
    """Seconds until a locked name or address may try again; None when not locked."""
    now = time.time()
    waits = []
    for key, limit in _keys(username, address):
        if (cache.get(key) or 0) >= limit:
            waits.append(max(1, int((cache.get(f"{key}:until") or now) - now) + 1))
    return max(waits) if waits else None


def failed(username: str, address: str) -> list[str]:
    """Count a failure; returns which scopes ("user", "ip") reached their limit with it."""
    window = settings.WARDEN_LOGIN_LOCKOUT_SECONDS
    reached = []
    for (key, limit), scope in zip(_keys(username, address), ("user", "ip")):
        if cache.add(key, 0, window):
            cache.set(f"{key}:until", time.time() + window, window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)
            count = 1
        if count == limit:
            reached.append(scope)
    return reached


def succeeded(username: str, address: str) -> None:
    """A right password clears the name's count (not the address's: one good account must not
    unlock guessing at others)."""
    key = _keys(username, address)[0][0]
    cache.delete_many([key, f"{key}:until"])
