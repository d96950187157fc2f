"""Warden's own registry API (DRF): model protection, restore of deleted models and versions,
and governed transition requests.

Errors travel in the same ``{"error_code", "message"}`` shape as the MLflow API; the workspace
is chosen the same way (``X-MLFLOW-WORKSPACE``, else the token's, else the user's default).
"""

from rest_framework import status as http_status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import principal_of
from accounts.permissions import Level
from accounts.workspaces import WORKSPACE_HEADER, WorkspaceNotFound, resolve_workspace
from audit.denials import record_drf_denial, record_mlflow_denial
from experiments.errors import MlflowError, invalid, not_found
from registry import promotion, selectors, services
from registry.access import (
    access_deleted_model,
    access_deleted_version,
    access_model_version,
    access_registered_model,
    access_transition_request,
)
from registry.api.serializers import (
    DecisionInput,
    ProtectionInput,
    TransitionRequestInput,
    TransitionRequestSerializer,
    protection_json,
)
from registry.models import TransitionRequest


class RegistryView(APIView):
    # Fail-closed routing: signed in; the access helpers then decide per model (read-only tokens capped).
    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc):
        if isinstance(exc, MlflowError):
            record_mlflow_denial(self.request, exc)
            return Response(exc.as_json(), status=exc.status)
        record_drf_denial(self.request, exc)
        return super().handle_exception(exc)

    def context(self, request):
        try:
            request.warden = resolve_workspace(principal_of(request), request.META.get(WORKSPACE_HEADER) or None)
            return request.warden
        except WorkspaceNotFound as exc:
            raise not_found(f"Workspace '{exc}' not found." if str(exc) else "No workspace available to this account.")


class ProtectionView(RegistryView):
    """GET (READ) shows a model's protection; PUT (MANAGE) protects or unprotects it."""

    def get(self, request, name):
        model = access_registered_model(self.context(request), name, Level.READ)
        return Response(protection_json(model))

    def put(self, request, name):
        ctx = self.context(request)
        model = access_registered_model(ctx, name, Level.MANAGE)
        data = ProtectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        model = promotion.protection_set(
            actor=ctx.user,
            model=model,
            protected=data.validated_data["protected"],
            protected_aliases=data.validated_data.get("protected_aliases"),
        )
        return Response(protection_json(model))


class ModelRestoreView(RegistryView):
    """POST (MANAGE): restore a deleted model by id (see the workspace's deleted listing)."""

    def post(self, request, pk):
        ctx = self.context(request)
        model = services.registered_model_restore(actor=ctx.user, model=access_deleted_model(ctx, pk, Level.MANAGE))
        return Response({"id": model.pk, "name": model.name, "deleted": model.deleted})


class VersionRestoreView(RegistryView):
    """POST (MANAGE on the model): restore a deleted version of a live model."""

    def post(self, request, name, version):
        ctx = self.context(request)
        found = services.model_version_restore(actor=ctx.user, version=access_deleted_version(ctx, name, version, Level.MANAGE))
        return Response({"name": found.registered_model.name, "version": str(found.version), "deleted": found.deleted})


class RequestPages(CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class TransitionRequestListView(RegistryView):
    """GET lists requests on models the caller can read; POST opens one (EDIT on the model)."""

    def get(self, request):
        ctx = self.context(request)
        status = request.query_params.get("status")
        if status and status not in TransitionRequest.Status.values:
            raise invalid(f"Unknown status '{status}'. Use one of {TransitionRequest.Status.values}.")
        queryset = selectors.visible_requests(ctx, status=status, name=request.query_params.get("name"))
        pages = RequestPages()
        page = pages.paginate_queryset(queryset, request, view=self)
        return pages.get_paginated_response(TransitionRequestSerializer(page, many=True).data)

    def post(self, request):
        ctx = self.context(request)
        data = TransitionRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        version = access_model_version(ctx, values["name"], values["version"], Level.EDIT)
        transition, created = promotion.request_open(
            actor=ctx.user,
            version=version,
            stage=values.get("stage"),
            alias=values.get("alias"),
            archive_existing_versions=values["archive_existing_versions"],
            comment=values["comment"],
        )
        return Response(
            TransitionRequestSerializer(transition).data,
            status=http_status.HTTP_201_CREATED if created else http_status.HTTP_200_OK,
        )


class TransitionRequestDetailView(RegistryView):
    def get(self, request, pk):
        transition = access_transition_request(self.context(request), pk, Level.READ)
        return Response(TransitionRequestSerializer(transition).data)


class DecisionView(RegistryView):
    """approve / reject need MANAGE (approve: not the requester); cancel is the requester's (EDIT)."""

    decision = ""

    def post(self, request, pk):
        ctx = self.context(request)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = data.validated_data["comment"]
        if self.decision == "cancel":
            transition = access_transition_request(ctx, pk, Level.EDIT)
            transition = promotion.request_cancel(actor=ctx.user, request=transition, comment=comment)
        else:
            transition = access_transition_request(ctx, pk, Level.MANAGE)
            decide = promotion.request_approve if self.decision == "approve" else promotion.request_reject
            transition = decide(actor=ctx.user, request=transition, comment=comment)
        transition = access_transition_request(ctx, pk, Level.READ)
        return Response(TransitionRequestSerializer(transition).data)
