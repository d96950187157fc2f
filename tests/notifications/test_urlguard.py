"""The SSRF guard: address classification, URL rules, and the connect-time peer check on a real
loopback socket (DNS rebinding: the name resolved public when checked, the socket is private)."""

import socket
import threading
import time

import pytest
import requests

from notifications.webhooks import sender, urlguard


@pytest.mark.parametrize(
    "address,public",
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # cloud metadata
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),  # IPv4-mapped
        ("::ffff:93.184.216.34", True),
        ("2002:a00:1::", False),  # 6to4 around 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 around 169.254.169.254
        ("64:ff9b::5db8:d822", True),  # NAT64 around a public address
        ("224.0.0.1", False),
        ("not-an-ip", False),
    ],
)
def test_addresses_are_public_only_when_their_embedded_ipv4_is(address, public):
    assert urlguard.is_public(address) is public


def test_allowlisted_hosts_may_use_http_and_loopback_but_nothing_else_does(settings):
    settings.WARDEN_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "receiver.test"]
    assert urlguard.validate_url("http://127.0.0.1:8080/hook")
    assert urlguard.validate_url("http://receiver.test/hook")
    for url in ("http://127.0.0.2/hook", "https://127.0.0.2/hook", "https://[::1]/hook", "http://RECEIVER.test.evil/hook"):
        with pytest.raises(urlguard.UrlRefused):
            urlguard.validate_url(url)


@pytest.mark.parametrize("url", ["https://a..b/x", "https://exa mple.com/", "https://host.example./x", "https://:443/x", "https://[::1/x", "x" * 3000])
def test_malformed_urls_are_refused(url):
    with pytest.raises(urlguard.UrlRefused):
        urlguard.validate_url(url)


class SilentServer:
    """Accepts TCP connections on loopback and records whether any byte arrived."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.settimeout(1)
            try:
                self.received += conn.recv(65536)
            except OSError:
                pass
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_connected_peer_is_checked_before_any_byte_is_sent(settings, silent_server, scheme):
    settings.WARDEN_WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(urlguard.PeerRefused):
        sender.session().post(f"{scheme}://127.0.0.1:{silent_server.port}/hook", data=b"{}", timeout=5, allow_redirects=False)
    assert silent_server.received == b""  # no HTTP request line, no TLS ClientHello


def test_dns_rebinding_is_caught_at_connect(settings, silent_server, monkeypatch):
    """The name resolves to a public address when checked, then connects to loopback."""
    settings.WARDEN_WEBHOOK_ALLOWED_HOSTS = []
    monkeypatch.setattr(urlguard, "resolve", lambda host, port: ["93.184.216.34"])  # the attacker's DNS answer
    url = f"https://localhost:{silent_server.port}/hook"
    assert urlguard.validate_url(url) == url
    result = sender.post(url, "{}", "delivery-1", "secret")
    assert (result.succeeded, result.error, result.retry) == (False, "PeerRefused", False)
    deadline = time.monotonic() + 2
    while silent_server.accepted == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert silent_server.accepted == 1 and silent_server.received == b""  # it connected, then sent nothing


def test_requests_from_the_environment_do_not_bypass_the_guard(settings, silent_server, monkeypatch):
    """A proxy from HTTPS_PROXY would make the peer the proxy: the session ignores the environment."""
    settings.WARDEN_WEBHOOK_ALLOWED_HOSTS = []
    monkeypatch.setenv("HTTP_PROXY", "http://93.184.216.34:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://93.184.216.34:3128")
    with pytest.raises(urlguard.PeerRefused):
        sender.session().post(f"http://127.0.0.1:{silent_server.port}/", data=b"{}", timeout=5)
    assert isinstance(sender.session(), requests.Session) and sender.session().trust_env is False
