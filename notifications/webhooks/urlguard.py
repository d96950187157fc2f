"""The SSRF guard of outbound webhook requests (security promise A8).

A webhook URL must be https, carry no user info, name its host canonically (an IP literal only
in its canonical spelling: ``127.1`` and ``0177.0.0.1`` are refused) and resolve only to public
addresses, with IPv4 embedded in IPv6 (IPv4-mapped, 6to4, NAT64) unwrapped first. Resolving
when the URL is saved is not enough (DNS can rebind), so ``GuardedAdapter`` checks the address
of the socket actually connected, before TLS or a byte of HTTP. Hosts named in
``WARDEN_WEBHOOK_ALLOWED_HOSTS`` skip the address checks and may use http: they are the
operator's explicit choice (development receivers, tests).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UrlRefused(ValueError):
    """The URL may not be called; the message says why (never echoing a response)."""


class PeerRefused(Exception):
    """The connected peer is not a public address. Deliberately not an OSError, so urllib3
    does not retry it and requests does not wrap it: the attempt fails closed."""


def allowlisted(host: str) -> bool:
    return (host or "").lower().strip("[]") in {h.strip("[]") for h in settings.WARDEN_WEBHOOK_ALLOWED_HOSTS}


def unwrap(ip):
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 IPv6 address, else ``ip``."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return inner
    return ip


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return unwrap(ip).is_global and not ip.is_multicast


def _looks_numeric(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit() or host.lower().startswith("0x")


def _canonical_host(host: str) -> str:
    if _looks_numeric(host):
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            raise UrlRefused(f"Webhook URL host '{host}' is not a canonical IP address.") from None
        if ip.version == 4 and str(ip) != host:  # IPv6 spellings are unambiguous; legacy IPv4 ones are not
            raise UrlRefused(f"Webhook URL host '{host}' is not a canonical IP address (write {ip}).")
        return host
    try:
        host.encode("idna")
    except UnicodeError:
        raise UrlRefused(f"Webhook URL host '{host}' is not a valid host name.") from None
    if host.endswith(".") or any(not label for label in host.split(".")):
        raise UrlRefused(f"Webhook URL host '{host}' is not a valid host name.")
    return host


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UrlRefused(f"Cannot resolve webhook URL host '{host}': {exc.__class__.__name__}.") from None
    return sorted({info[4][0] for info in infos})


def validate_url(url) -> str:
    """Return the URL if a webhook may call it, else raise UrlRefused."""
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("Webhook URL must be a non-empty string.")
    if len(url) > MAX_URL_LENGTH or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise UrlRefused("Webhook URL is too long or contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("Webhook URL is malformed.") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise UrlRefused("Webhook URL must include a host name.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UrlRefused("Webhook URL must not contain user info (credentials belong in the secret).")
    trusted = allowlisted(host)
    schemes = ("https", "http") if trusted else ("https",)
    if parts.scheme.lower() not in schemes:
        raise UrlRefused(f"Invalid webhook URL scheme '{parts.scheme}': use https.")
    _canonical_host(host)
    if trusted:
        return url
    port = port or 443
    addresses = resolve(host, port)
    private = [a for a in addresses if not is_public(a)]
    if not addresses or private:
        raise UrlRefused(f"Webhook URL host '{host}' resolves to a non-public address ({private[0] if private else 'none'}).")
    return url


class _PeerCheck:
    """Check the connected socket's peer address right after connect(), before TLS."""

    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if not allowlisted(self.host) and not is_public(peer):
            sock.close()
            raise PeerRefused(f"Connected peer {peer} is not a public address.")
        return sock


class GuardedHTTPConnection(_PeerCheck, HTTPConnection):
    pass


class GuardedHTTPSConnection(_PeerCheck, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose pools use the guarded connections (this session only)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
