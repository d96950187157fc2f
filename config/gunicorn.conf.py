"""Gunicorn settings for Warden, read from environment variables.

`gunicorn -c config/gunicorn.conf.py config.wsgi` (the embedded command and the Docker image both
run exactly that). Threaded workers keep many slow artifact streams from starving quick API
calls; keep-alive spares the mlflow client a TCP handshake per call. Gunicorn sets TCP_NODELAY on
its listening socket and accepted connections inherit it, so a response written in two parts
(headers, then body) is not held back by Nagle's algorithm (tests/compat/test_embedded.py
measures this).
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("WARDEN_BIND", "127.0.0.1:5000").split()
worker_class = "gthread"
workers = _int("WARDEN_WORKERS", 2)
threads = _int("WARDEN_THREADS", 8)
keepalive = _int("WARDEN_KEEPALIVE", 5)
# A gthread worker heartbeats from its main loop, so a long upload does not trip this.
timeout = _int("WARDEN_TIMEOUT", 60)
graceful_timeout = _int("WARDEN_GRACEFUL_TIMEOUT", 30)

# Access log off unless asked for ("-" = stdout, or a file path); errors go to stderr.
accesslog = os.environ.get("WARDEN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("WARDEN_GUNICORN_LOG_LEVEL", "info")

# Only trust X-Forwarded-* from the proxies named here (default: none).
forwarded_allow_ips = os.environ.get("WARDEN_FORWARDED_ALLOW_IPS", "")

# Gunicorn's control socket lives in one per-user file: two servers of one user would fight over it.
control_socket_disable = True
