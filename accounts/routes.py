"""Fail-closed routing: every URL route declares who may call it, or nobody can.

A route's decision is one of:
- ``mlflow``: an MLflow API view made by ``@endpoint`` (token or session, a workspace, then the
  access helpers and selectors decide per object);
- ``drf``: a DRF view whose class declares its own ``permission_classes`` (the project default
  does not count: a view must say it);
- ``public``: marked with ``@public(reason)`` (health, version, server-info, the API schema);
- ``admin-site``: a view of the Django admin, which checks for an active staff session itself;
- ``page``: a web page made by ``@signed_in_page``: a browser session is required (anonymous
  visitors are sent to sign in), then the page's selectors and access helpers decide.

``FailClosedMiddleware`` refuses, before the view runs, any request whose view has no decision,
and ``tests/governance/test_routes.py`` walks the resolver so such a route never ships.
"""

from django.urls import URLPattern, URLResolver, get_resolver

MLFLOW = "mlflow"
DRF = "drf"
PUBLIC = "public"
ADMIN_SITE = "admin-site"
PAGE = "page"

ACCESS_ATTR = "warden_access"
REASON_ATTR = "warden_public_reason"

# URL namespaces whose views bring their own check, with why that check suffices.
TRUSTED_NAMESPACES = {
    "admin": "Django admin: AdminSite.admin_view requires an active staff session on every page but login/logout",
}


def mark(view, decision: str):
    setattr(view, ACCESS_ATTR, decision)
    return view


def mlflow_view(view):
    """For ``@endpoint``: the view authenticates, resolves a workspace and calls access helpers."""
    return mark(view, MLFLOW)


def signed_in_page(view):
    """A server-rendered page: signed-in users only; what it shows is scoped by its selectors.
    The session's user is the principal of the audit events the page leads to."""
    from functools import wraps

    from django.contrib.auth.decorators import login_required

    @wraps(view)
    def as_principal(request, *args, **kwargs):
        from accounts.authentication import Principal
        from audit import context as audit_context

        audit_context.set_principal(Principal(user=request.user, token=None, auth_method="session"))
        return view(request, *args, **kwargs)

    return mark(login_required(as_principal), PAGE)


def public(reason: str):
    """Declare a view open to anonymous callers; the reason is part of the declaration."""
    if not reason or not reason.strip():
        raise ValueError("A public route needs a reason.")

    def decorate(view):
        setattr(view, REASON_ATTR, reason)
        return mark(view, PUBLIC)

    return decorate


def _declared_permission_classes(view_class):
    """The ``permission_classes`` a DRF view class (or a project base class) sets itself."""
    from rest_framework.views import APIView

    for klass in view_class.__mro__:
        if klass is APIView or klass.__module__.startswith("rest_framework."):
            continue
        if "permission_classes" in vars(klass):
            return tuple(vars(klass)["permission_classes"])
    return ()


def decision(callback, namespace: str = "") -> str | None:
    """The permission decision of a view callable, or None when it has none."""
    declared = getattr(callback, ACCESS_ATTR, None)
    if declared is not None:
        return declared
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None and hasattr(view_class, "permission_classes"):
        from rest_framework.permissions import AllowAny

        classes = _declared_permission_classes(view_class)
        if classes and AllowAny not in classes:
            return DRF
        return None
    if namespace.split(":")[0] in TRUSTED_NAMESPACES:
        return ADMIN_SITE
    return None


def iter_routes(resolver=None, prefix: str = "", namespace: str = ""):
    """Every (route, view callable, namespace) reachable from the root URLconf."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from iter_routes(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback, namespace


def undecided_routes() -> list[str]:
    return [route for route, callback, namespace in iter_routes() if decision(callback, namespace) is None]


class FailClosedMiddleware:
    """Answer 403 for a view without a permission decision, before it runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        if decision(view_func, match.namespace if match else "") is not None:
            return None
        from django.http import JsonResponse

        return JsonResponse(
            {"error_code": "PERMISSION_DENIED", "message": "This route declares no permission decision."}, status=403
        )
