"""The MLflow wire protocol shared by every MLflow endpoint (tracking, artifacts, registry).

``@endpoint`` authenticates, resolves the workspace, parses the request (query string for GET,
JSON body otherwise), calls the view with ``(request, ctx, params)`` and turns the dict it
returns, or the MlflowError it raises, into MLflow's JSON answer.
"""

from __future__ import annotations

import json
import logging
import math
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from accounts import routes
from accounts.authentication import InvalidCredentials, authenticate_request
from accounts.workspaces import WORKSPACE_HEADER, WorkspaceNotFound, resolve_workspace
from audit.denials import record_mlflow_denial
from experiments.errors import MlflowError, denied, invalid, not_found

logger = logging.getLogger("warden.mlflow_api")

JSON_CONTENT_TYPE = "application/json"


def json_response(payload, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(payload, separators=(",", ":")), status=status, content_type=JSON_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: MlflowError) -> HttpResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="warden"'} if error.status == 401 else None
    return json_response(error.as_json(), status=error.status, headers=headers)


def wire_float(value: float):
    """JSON has no NaN or infinities: send them the way protobuf's JSON mapping does."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


class Params:
    """Typed access to request parameters with MLflow's validation messages."""

    def __init__(self, data: dict, query=None):
        self.data = data
        self.query = query

    def _value(self, name):
        """A scalar parameter; repeating it in the query string is refused, not resolved silently."""
        if self.query is not None and len(self.query.getlist(name)) > 1:
            raise invalid(f"Parameter '{name}' was given more than once.")
        return self.data.get(name)

    def raw(self, name):
        return self._value(name)

    def has(self, name) -> bool:
        return self._value(name) is not None

    def str(self, name, *, required=False, default=None, max_length=None) -> str | None:
        value = self._value(name)
        if value is None or value == "":
            if required:
                raise invalid(f"Missing value for required parameter '{name}'.")
            return default
        if not isinstance(value, str):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)
            else:
                raise invalid(f"Invalid value {json.dumps(value)} for parameter '{name}' supplied: must be a string.")
        if max_length is not None and len(value) > max_length:
            raise invalid(f"Parameter '{name}' exceeds the maximum length of {max_length}.")
        return value

    def int(self, name, *, required=False, default=None, minimum=None, maximum=None) -> int | None:
        value = self._value(name)
        if value is None or value == "":
            if required:
                raise invalid(f"Missing value for required parameter '{name}'.")
            return default
        if isinstance(value, bool):
            raise invalid(f"Invalid value {value} for parameter '{name}': must be an integer.")
        try:
            number = int(value) if not isinstance(value, float) or value.is_integer() else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            raise invalid(f"Invalid value {json.dumps(value)} for parameter '{name}': must be an integer.")
        if minimum is not None and number < minimum:
            raise invalid(f"Invalid value {number} for parameter '{name}': must be at least {minimum}.")
        if maximum is not None and number > maximum:
            raise invalid(f"Invalid value {number} for parameter '{name}': must be at most {maximum}.")
        return number

    def float(self, name, *, required=False) -> float | None:
        value = self._value(name)
        if value is None:
            if required:
                raise invalid(f"Missing value for required parameter '{name}'.")
            return None
        return parse_float(value, name)

    def bool(self, name, *, default=False) -> bool:
        value = self._value(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(f"Invalid value {json.dumps(value)} for parameter '{name}': must be a boolean.")

    def list(self, name) -> list:
        if self.query is not None:
            values = self.query.getlist(name)
            return values
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise invalid(f"Invalid value for parameter '{name}': must be a list.")
        return value

    def dict_list(self, name) -> list[dict]:
        items = self.list(name)
        for item in items:
            if not isinstance(item, dict):
                raise invalid(f"Invalid value for parameter '{name}': every entry must be an object.")
        return items


def parse_float(value, name="value") -> float:
    if isinstance(value, bool):
        raise invalid(f"Invalid value {value} for parameter '{name}': must be a number.")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise invalid(f"Invalid value {json.dumps(value)} for parameter '{name}': must be a number.")


class BodyTooLarge(MlflowError):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE: HTTP 413, in MLflow's error shape."""

    def __init__(self):
        super().__init__("The request body is too large.", "RESOURCE_LIMIT_EXCEEDED")

    @property
    def status(self) -> int:
        return 413


class DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs):
    """Authorisation and the handler must read the same value: a repeated key is refused."""
    data = {}
    for key, value in pairs:
        if key in data:
            raise DuplicateKey(key)
        data[key] = value
    return data


def _loads(text):
    return json.loads(text, object_pairs_hook=_object_without_duplicates)


def parse_json_body(request) -> dict:
    try:
        body = request.body
    except RequestDataTooBig:
        raise BodyTooLarge()
    if not body:
        return {}
    content_type = request.content_type or ""
    if content_type != JSON_CONTENT_TYPE:
        raise invalid(f"Content-Type must be one of ['{JSON_CONTENT_TYPE}'].")
    try:
        data = _loads(body)
        if isinstance(data, str):  # some older clients encode the JSON object twice
            data = _loads(data)
    except DuplicateKey as exc:
        raise MlflowError(f"Duplicate key {json.dumps(str(exc))} in the JSON request body.", "BAD_REQUEST")
    except ValueError:  # UnicodeDecodeError included
        raise MlflowError("Malformed JSON request body.", "BAD_REQUEST")
    if not isinstance(data, dict):
        raise MlflowError("The request body must be a JSON object.", "BAD_REQUEST")
    return data


def query_params(request) -> Params:
    """A GET's parameters: the query string only. A body beside it could say something else."""
    try:
        has_body = bool(request.body)
    except RequestDataTooBig:
        raise BodyTooLarge()
    if has_body:
        raise invalid("A GET request takes its parameters from the query string and must not have a body.")
    return Params(request.GET.dict(), query=request.GET)


def _csrf_failure(request) -> MlflowError | None:
    """Browser sessions must carry the CSRF token on writes; API tokens need none."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is None:
        return None
    return denied("CSRF verification failed: a browser session must send the CSRF token on this request.")


def method_not_allowed(methods) -> HttpResponse:
    """MLflow's error shape for a known route called with the wrong method."""
    allowed = ", ".join(methods)
    body = {"error_code": "BAD_REQUEST", "message": f"Method not allowed; this endpoint accepts {allowed}."}
    return json_response(body, status=405, headers={"Allow": allowed})


def authenticated_context(request):
    """Authenticate and resolve the workspace, raising MlflowError on failure."""
    try:
        principal = authenticate_request(request)
    except InvalidCredentials as exc:
        raise MlflowError(str(exc), "UNAUTHENTICATED")
    if principal is None:
        raise MlflowError("Authentication required: send an API token as a Bearer token.", "UNAUTHENTICATED")
    try:
        return resolve_workspace(principal, request.META.get(WORKSPACE_HEADER) or None)
    except WorkspaceNotFound as exc:
        raise not_found(f"Workspace '{exc}' not found." if str(exc) else "No workspace available to this account.")


def endpoint(methods, *, parse_body=True):
    """Wrap an MLflow view taking (request, ctx, params) and returning a dict or a response."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                return method_not_allowed(methods)
            try:
                ctx = authenticated_context(request)
                request.warden = ctx
                if ctx.principal.auth_method == "session" and (failure := _csrf_failure(request)) is not None:
                    raise failure
                if request.method == "GET" or not parse_body:
                    params = query_params(request) if request.method == "GET" else None
                else:
                    params = Params(parse_json_body(request))
                result = view(request, ctx, params, *args, **kwargs)
            except MlflowError as error:
                record_mlflow_denial(request, error)  # a 403: after the view's transactions, so it survives
                return error_response(error)
            except Exception:  # never an HTML 500 on the MLflow API
                logger.exception("Unhandled error in %s %s", request.method, request.path)
                return error_response(MlflowError("Internal server error.", "INTERNAL_ERROR"))
            if isinstance(result, HttpResponseBase):
                return result
            return json_response(result)

        wrapper.mlflow_methods = tuple(methods)
        return routes.mlflow_view(wrapper)  # fail-closed routing: authenticated + access helpers

    return decorate
