"""The auditor pages: the log viewer with its filters and pages, one event with its change as a
diff table, exports (streamed CSV/JSONL, and background jobs with their status and file).

Each page is ``@signed_in_page`` and then asks ``audit.access`` like the API does: a workspace
the caller cannot see is a 404, one they see but do not audit a 403, and every query is scoped
in SQL. The filters are the API's (``EventListInput``), so the page and the API agree.
"""

import json

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.exceptions import ErrorDetail

from accounts.pages.access import principal
from accounts.routes import signed_in_page
from audit import exports, governance, selectors
from audit.access import NotAuditable, require_auditor, scope_of
from audit.api.serializers import EventListInput, ExportInput
from audit.api.views import EVENT_ORDER, export_response
from audit.models import ExportStatus, Outcome
from experiments.errors import MlflowError
from experiments.search.page_tokens import paginate

PAGE_SIZE = 50


def _refuse(exc: NotAuditable):
    if exc.status == 404:
        raise Http404(str(exc))
    raise PermissionDenied(str(exc))


def _errors(serializer) -> list[str]:
    found = []
    for field, messages in serializer.errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            text = str(message) if isinstance(message, ErrorDetail | str) else json.dumps(message)
            found.append(text if field == "non_field_errors" else f"{field}: {text}")
    return found


def _query(request, serializer_class, params):
    """Validated filters and the scoped events; bad filters come back as messages (status 400)."""
    serializer = serializer_class(data=params)
    if not serializer.is_valid():
        return None, None, None, None, _errors(serializer)
    try:
        scope, workspace, events = selectors.audited_events(principal(request), serializer.validated_data)
    except NotAuditable as exc:
        _refuse(exc)
    return serializer.validated_data, scope, workspace, events, []


def _filter_params(request) -> dict:
    return {name: request.GET[name] for name in selectors.FILTER_NAMES if request.GET.get(name, "").strip()}


@signed_in_page
@require_GET
def event_log(request):
    params = _filter_params(request)
    if request.GET.get("cursor"):
        params["cursor"] = request.GET["cursor"]
    params["limit"] = PAGE_SIZE
    data, scope, _, events, errors = _query(request, EventListInput, params)
    rows, next_url = [], None
    if not errors:
        context = {"f": selectors.filters_as_json(data), "s": scope.as_json()}
        try:
            rows, cursor = paginate(events, EVENT_ORDER, entity="audit-events", context=context, max_results=PAGE_SIZE,
                                    page_token=data.get("cursor"))
        except MlflowError as exc:
            errors, cursor = [exc.message], None
        if cursor:
            next_url = "?" + urlencode({**_filter_params(request), "cursor": cursor})
    query = urlencode(_filter_params(request))
    return render(
        request,
        "audit/log.html",
        {
            "events": rows,
            "filters": _filter_params(request),
            "outcomes": Outcome.values,
            "errors": errors,
            "next_url": next_url,
            "first_url": "?" + query if request.GET.get("cursor") else None,
            "query": query,
        },
        status=400 if errors else 200,
    )


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def diff_rows(changes: dict) -> list[dict]:
    """The change as rows of (field, before, after, changed) when it is a before/after pair."""
    before, after = changes.get("before"), changes.get("after")
    if not isinstance(before, dict) and not isinstance(after, dict):
        return []
    before, after = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
    rows = []
    for key in sorted(set(before) | set(after)):
        old = _value(before[key]) if key in before else None
        new = _value(after[key]) if key in after else None
        rows.append({"field": key, "before": old, "after": new, "changed": old != new})
    return rows


@signed_in_page
@require_GET
def event_detail(request, event_id: int):
    scope = scope_of(principal(request))
    event = selectors.event_in_scope(scope, event_id)
    if event is None:
        raise Http404("Audit event not found.")
    changes = event.changes if isinstance(event.changes, dict) else {}
    detail = {key: _value(value) for key, value in changes.items() if key not in ("before", "after")}
    return render(request, "audit/event.html", {"event": event, "diff": diff_rows(changes), "detail": detail})


@signed_in_page
@require_GET
def export_stream(request):
    params = {**_filter_params(request), "format": request.GET.get("format", "csv")}
    data, _, workspace, events, errors = _query(request, ExportInput, params)
    if errors:
        return render(request, "audit/log.html", {"errors": errors, "filters": _filter_params(request), "outcomes": Outcome.values}, status=400)
    chunks = exports.start_stream(events, actor=request.user, fmt=data["format"], filters=selectors.filters_as_json(data), workspace=workspace)
    return export_response(chunks, data["format"])


@signed_in_page
@require_http_methods(["GET", "POST"])
def export_jobs(request):
    if request.method == "POST":
        params = {name: request.POST[name] for name in selectors.FILTER_NAMES if request.POST.get(name, "").strip()}
        params["format"] = request.POST.get("format", "csv")
        data, scope, _, _, errors = _query(request, ExportInput, params)
        if not errors:
            job = governance.export_request(actor=request.user, scope=scope, fmt=data["format"], filters=selectors.filters_as_json(data))
            return HttpResponseRedirect(reverse("audit-page-jobs") + f"#job-{job.pk}")
    else:
        errors = []
        try:
            require_auditor(scope_of(principal(request)))
        except NotAuditable as exc:
            _refuse(exc)
    jobs = selectors.export_jobs_of(request.user)[:50]
    return render(request, "audit/jobs.html", {"jobs": jobs, "errors": errors, "done": ExportStatus.DONE}, status=400 if errors else 200)


@signed_in_page
@require_GET
def export_job_download(request, job_id: int):
    job = selectors.export_jobs_of(request.user).filter(pk=job_id, status=ExportStatus.DONE).first()
    response = exports.file_response(job) if job and exports.may_download(job) else None
    if response is None:
        raise Http404("Export not found.")
    return response
