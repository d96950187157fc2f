"""The audit API (``/api/v1/audit/``): events, exports (streamed and as jobs), chain verification,
global auditors; and, under ``/api/v1/workspaces/<slug>/``, a workspace's auditors and retention.

Who reads what is the caller's audit scope (``audit.access``), applied in SQL by the selectors.
Reads are open to read-only tokens; so is asking for an export job, which changes no governed
state. Granting and revoking auditors, and the retention, need a token that may write.
"""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts.api.permissions import TokenCaps, principal_of
from accounts.api.views import Conflict, Invalid, WardenView, WorkspaceView, user_named
from accounts.models import Role
from audit import exports, governance, selectors
from audit.access import NotAuditable, audited_workspace, require_auditor, scope_of
from audit.api import serializers as s
from audit.models import AuditExport, ExportStatus
from experiments.search.page_tokens import SortKey, paginate

EVENT_ORDER = [SortKey("id", ascending=False)]  # newest first; ids are unique, so the order is total


class FirstRenderer(DefaultContentNegotiation):
    """These views take a ``format`` parameter of their own (csv, jsonl): it does not pick a
    DRF renderer; answers that are not a file are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AuditView(WardenView):
    """Signed in; the audit scope then decides. Scope errors keep Warden's 404/403 rule."""

    permission_classes = [IsAuthenticated, TokenCaps]

    def handle_exception(self, exc):
        if isinstance(exc, NotAuditable):
            exc = NotFound(str(exc)) if exc.status == 404 else PermissionDenied(str(exc))
        elif isinstance(exc, governance.GovernanceError):
            exc = NotFound(str(exc)) if exc.code == "not_found" else Invalid(str(exc))
        return super().handle_exception(exc)

    def query(self, request, input_class):
        data = self.valid(input_class, request.query_params)
        scope, workspace, events = selectors.audited_events(principal_of(request), data)
        return data, scope, workspace, events


class EventListView(AuditView):
    @extend_schema(parameters=[s.EventListInput], responses=s.EventPageSerializer, operation_id="audit_events_list")
    def get(self, request):
        """Events in the caller's audit scope, newest first, a page at a time (``next_cursor``)."""
        data, scope, _, events = self.query(request, s.EventListInput)
        context = {"f": selectors.filters_as_json(data), "s": scope.as_json()}
        page, cursor = paginate(
            events, EVENT_ORDER, entity="audit-events", context=context, max_results=data["limit"], page_token=data.get("cursor")
        )
        return Response({"events": s.EventSerializer(page, many=True).data, "next_cursor": cursor})


class EventDetailView(AuditView):
    @extend_schema(responses=s.EventDetailSerializer)
    def get(self, request, event_id):
        """One event with its changes (before/after) and its place in the chain."""
        event = selectors.event_in_scope(scope_of(principal_of(request)), event_id)
        if event is None:
            raise NotFound(f"Audit event {event_id} not found.")
        return Response(s.EventDetailSerializer(event).data)


def export_response(chunks, fmt: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=exports.CONTENT_TYPES[fmt])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


class EventExportView(AuditView):
    content_negotiation_class = FirstRenderer

    @extend_schema(
        parameters=[s.ExportInput],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/x-ndjson"): OpenApiTypes.STR},
    )
    def get(self, request):
        """Stream every event matching the filters, oldest first, as CSV or JSON Lines (an attachment)."""
        data, _, workspace, events = self.query(request, s.ExportInput)
        fmt = data["format"]
        chunks = exports.start_stream(events, actor=request.user, fmt=fmt, filters=selectors.filters_as_json(data), workspace=workspace)
        return export_response(chunks, fmt)


class VerifyView(AuditView):
    @extend_schema(parameters=[s.VerifyInput], responses=s.VerifySerializer)
    def get(self, request):
        """``verify_chain`` of each chain in the caller's scope: the first broken link, if any."""
        data = self.valid(s.VerifyInput, request.query_params)
        principal = principal_of(request)
        scope = scope_of(principal)
        workspace = None
        if data.get("workspace"):
            workspace = audited_workspace(principal, scope, data["workspace"])
        else:
            require_auditor(scope)
        reports = selectors.chain_reports(scope, workspace)
        return Response({"ok": all(report["ok"] for report in reports), "chains": reports})


# ---------------------------------------------------------------- export jobs


class ExportJobListView(AuditView):
    permission_classes = [IsAuthenticated]  # a read-only token may ask for an export: it changes nothing governed

    @extend_schema(responses=s.ExportJobSerializer(many=True))
    def get(self, request):
        """The caller's export jobs, newest first."""
        jobs = selectors.export_jobs_of(request.user)[:100]
        return Response(s.ExportJobSerializer(jobs, many=True).data)

    @extend_schema(request=s.ExportInput, responses={202: s.ExportJobSerializer})
    def post(self, request):
        """Export a (large) range in the background to a file with a SHA-256 and the chains' verification."""
        data = self.valid(s.ExportInput, request.data)
        scope, workspace, _ = selectors.audited_events(principal_of(request), data)
        job = governance.export_request(
            actor=request.user, scope=scope, fmt=data["format"], filters=selectors.filters_as_json(data)
        )
        return Response(s.ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportJobMixin:
    def job(self, request, job_id) -> AuditExport:
        job = selectors.export_jobs_of(request.user).filter(pk=job_id).first()
        if job is None or not exports.may_download(job):  # a revoked grant takes its exports along
            raise NotFound(f"Export {job_id} not found.")
        return job


class ExportJobDetailView(ExportJobMixin, AuditView):
    @extend_schema(responses=s.ExportJobSerializer)
    def get(self, request, job_id):
        return Response(s.ExportJobSerializer(self.job(request, job_id)).data)


class ExportJobDownloadView(ExportJobMixin, AuditView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="the export file")})
    def get(self, request, job_id):
        """The finished job's file, as an attachment (its SHA-256 is in the job)."""
        job = self.job(request, job_id)
        if job.status != ExportStatus.DONE:
            raise Conflict(f"Export {job_id} is {job.status}.")
        response = exports.file_response(job)
        if response is None:
            raise NotFound(f"The file of export {job_id} is gone.")
        return response


# ---------------------------------------------------------------- auditors and retention


class SuperusersOnly(BasePermission):
    message = "Only superusers manage global auditors."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_superuser)


class AuditorsMixin:
    """Views of the auditors of ``workspace_of_view()`` (None: the global ones)."""

    def listing(self):
        return Response(s.AuditorSerializer(governance.auditors_of(self.workspace_of_view()), many=True).data)

    def grant(self, request):
        data = self.valid(s.AuditorInput, request.data)
        _, created = governance.auditor_grant(actor=request.user, user=user_named(data["username"]), workspace=self.workspace_of_view())
        return Response(s.AuditorSerializer(governance.auditors_of(self.workspace_of_view()), many=True).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def revoke(self, request, username):
        user = governance.auditors_of(self.workspace_of_view()).filter(user__username=username).first()
        if user is None:
            raise NotFound(f"'{username}' is not an auditor here.")
        governance.auditor_revoke(actor=request.user, user=user.user, workspace=self.workspace_of_view())
        return Response(status=status.HTTP_204_NO_CONTENT)


class GlobalAuditView(AuditView):
    permission_classes = [IsAuthenticated, TokenCaps, SuperusersOnly]

    def workspace_of_view(self):
        return None


class GlobalAuditorListView(AuditorsMixin, GlobalAuditView):

    @extend_schema(responses=s.AuditorSerializer(many=True))
    def get(self, request):
        """Global auditors: every workspace's log, and the events of none (superusers are implicitly)."""
        return self.listing()

    @extend_schema(request=s.AuditorInput, responses={201: s.AuditorSerializer(many=True)})
    def post(self, request):
        return self.grant(request)


class GlobalAuditorDetailView(AuditorsMixin, GlobalAuditView):
    @extend_schema(responses={204: None})
    def delete(self, request, username):
        return self.revoke(request, username)


class WorkspaceAuditView(AuditView, WorkspaceView):
    """Under /workspaces/<slug>/: the workspace's admins (the role rule of ``WorkspaceView``)."""

    permission_classes = WorkspaceView.permission_classes
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def workspace_of_view(self):
        return self.ctx.workspace


class WorkspaceAuditorListView(AuditorsMixin, WorkspaceAuditView):
    @extend_schema(responses=s.AuditorSerializer(many=True))
    def get(self, request, slug):
        """The workspace's auditors: they read and export its log, nothing else."""
        return self.listing()

    @extend_schema(request=s.AuditorInput, responses={201: s.AuditorSerializer(many=True)})
    def post(self, request, slug):
        """Admins: make a user (any active user, a member or not) an auditor of this workspace."""
        return self.grant(request)


class WorkspaceAuditorDetailView(AuditorsMixin, WorkspaceAuditView):
    @extend_schema(responses={204: None})
    def delete(self, request, slug, username):
        return self.revoke(request, username)


class RetentionView(WorkspaceAuditView):
    read_role = Role.VIEWER

    @extend_schema(responses=s.RetentionSerializer)
    def get(self, request, slug):
        """How long the workspace keeps its sealed audit events (null: forever, the default)."""
        return Response({"keep_days": governance.retention_of(self.ctx.workspace)})

    @extend_schema(request=s.RetentionSerializer, responses=s.RetentionSerializer)
    def put(self, request, slug):
        """Admins: set the audit retention; the daily purge removes sealed events older than it."""
        data = self.valid(s.RetentionSerializer, request.data)
        keep_days = governance.retention_set(actor=request.user, workspace=self.ctx.workspace, keep_days=data["keep_days"])
        return Response({"keep_days": keep_days})
