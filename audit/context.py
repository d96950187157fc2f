"""Who is acting and from where, for the request being served (or the job being run).

The middleware opens a context per request with the network facts; authentication adds the
principal once it is known. ``audit.record`` reads it, so services need no request argument.
Outside a request (jobs, management commands) the context is empty and the actor is Warden.
Inside a request, ``as_warden`` marks changes Warden makes of its own accord (the IdP group sync
at a sign-in) so that they name the system, not the request's caller nor "anonymous".
"""

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

_MAX_USER_AGENT = 512


@dataclass(frozen=True)
class AuditContext:
    source_ip: str | None = None
    user_agent: str = ""
    client_version: str = ""
    request_id: str = ""
    principal: object | None = None  # accounts.authentication.Principal
    extra: dict = field(default_factory=dict)


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("warden_audit_context", default=AuditContext())


def current() -> AuditContext:
    return _current.get()


def set_principal(principal) -> None:
    """Called by authentication: later events of this request name this principal.
    Outside a request (no context opened by the middleware) there is nothing to name."""
    ctx = _current.get()
    if ctx.request_id:
        _current.set(replace(ctx, principal=principal))


# ``extra`` keys of a block run by ``as_warden``.
SYSTEM = "system"
CAUSE = "cause"


@contextmanager
def as_warden(cause: dict | None = None):
    """Events recorded inside without an explicit actor name the system (kind ``system``), even
    within a request; the request's network facts stay. ``cause`` (what made Warden act) is
    added to each event's ``changes``."""
    ctx = _current.get()
    with bound(replace(ctx, principal=None, extra={**ctx.extra, SYSTEM: True, CAUSE: cause})) as inner:
        yield inner


@contextmanager
def bound(ctx: AuditContext):
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def _client_version(user_agent: str) -> str:
    """MLflow's client sends ``mlflow-python-client/<version>``; keep the version it names."""
    for part in user_agent.split():
        name, _, version = part.partition("/")
        if name.startswith("mlflow") and version:
            return version[:64]
    return ""


def from_request(request) -> AuditContext:
    meta = request.META
    user_agent = meta.get("HTTP_USER_AGENT", "")[:_MAX_USER_AGENT]
    supplied = meta.get("HTTP_X_REQUEST_ID", "")
    request_id = supplied[:64] if supplied and supplied.isprintable() else uuid.uuid4().hex
    return AuditContext(
        source_ip=meta.get("REMOTE_ADDR") or None,  # gunicorn rewrites it from trusted proxies only
        user_agent=user_agent,
        client_version=_client_version(user_agent),
        request_id=request_id,
    )


class AuditContextMiddleware:
    """Open an audit context for each request and echo its request id back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with bound(from_request(request)) as ctx:
            request.audit_request_id = ctx.request_id
            response = self.get_response(request)
        response["X-Request-Id"] = ctx.request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """A browser session is known once the auth middleware ran: name it as the principal
        (token authentication, which runs in the view, replaces it)."""
        user = getattr(request, "user", None)
        if current().principal is None and user is not None and user.is_authenticated:
            from accounts.authentication import Principal

            set_principal(Principal(user=user, token=None, auth_method="session"))
        return None
