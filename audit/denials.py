"""Denied requests in the audit log: one ``access.denied`` event per 403 the APIs answer.

The API boundaries (``@endpoint`` of the MLflow API, the DRF views of Warden's API) call
``record_denied`` while turning the refusal into a 403, after every transaction of the view has
ended: the refused request changes nothing, and its event survives. The event names the visible
target when the refusal came from an access helper (``experiments.errors.denied(target=...)``)
and the level or condition that was missing.

Not recorded as denials: 404s. An object that is missing, in another workspace or invisible to
the caller answers exactly like one that never existed, and its event would have to name
something the caller may not learn exists (or flood the log with probes for nothing). Rejected
credentials are ``auth.token_rejected`` events written by ``accounts.authentication``.
"""

import logging

from audit import actions
from audit.models import Outcome
from audit.services import record
from audit.targets import target_of

logger = logging.getLogger("warden.audit")

_MAX_REASON = 500


def need_name(need) -> str:
    if need is None:
        return ""
    return getattr(need, "name", None) or str(need)


def _route(request) -> str:
    """The route pattern, not the raw path: bounded, and free of what the caller typed."""
    match = getattr(request, "resolver_match", None)
    return (match.route if match is not None else "")[:200]


def record_denied(request, *, target=None, need=None, reason: str = "", workspace=None, error_code: str = "PERMISSION_DENIED"):
    """Append the denial of ``request``; a failure to write it never changes the 403 answer."""
    try:
        ctx = getattr(request, "warden", None)
        workspace = workspace if workspace is not None else getattr(ctx, "workspace", None)
        named = target_of(target, workspace=workspace) if target is not None else {"workspace": workspace}
        changes = {"need": need_name(need), "method": request.method, "route": _route(request), "reason": (reason or "")[:_MAX_REASON]}
        record(actions.ACCESS_DENIED, **named, changes=changes, outcome=Outcome.DENIED, error_code=error_code)
    except Exception:  # the refusal stands; the failure is logged for the operator
        logger.exception("audit: could not record a denial of %s %s", request.method, request.path)


def record_mlflow_denial(request, error) -> None:
    """For an MlflowError answered as 403 (``error.target`` and ``error.need`` set by the access helpers)."""
    if error.error_code == "PERMISSION_DENIED":
        record_denied(request, target=error.target, need=error.need, reason=error.message)


def record_drf_denial(request, exc, *, source=None) -> None:
    """For DRF's PermissionDenied: a permission class's refusal (its needs left on the request by
    ``accounts.api.permissions``), or an MlflowError ``source`` converted by the view."""
    from rest_framework.exceptions import PermissionDenied

    if not isinstance(exc, PermissionDenied):
        return
    if source is not None and getattr(source, "error_code", "") == "PERMISSION_DENIED":
        record_denied(request, target=source.target, need=source.need, reason=source.message)
        return
    target, need = getattr(request._request, "warden_denial", (None, None))
    record_denied(request, target=target, need=need, reason=str(exc.detail))
