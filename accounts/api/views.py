"""Warden's own API (``/api/v1/``): workspaces, members and roles, teams, the caller (``me``).

Views stay thin: permission classes decide who may call, ``accounts.services`` writes,
``accounts.selectors`` reads. Errors use DRF's shapes (``{"detail": ...}``, field errors).
Grants are in ``grant_views``, tokens and service accounts in ``token_views``.
"""

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.api.permissions import SuperuserWrites, TokenCaps, WorkspaceRole, principal_of
from accounts.models import Role, User
from accounts.services import ServiceError
from audit.denials import record_drf_denial
from experiments.errors import MlflowError


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


class Invalid(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid request."
    default_code = "invalid"


class WardenView(APIView):
    """Signed in, within the token's caps; service and access errors become DRF errors."""

    permission_classes = [IsAuthenticated, TokenCaps]

    def handle_exception(self, exc):
        source = exc
        if isinstance(exc, ServiceError):
            exc = {"conflict": Conflict, "not_found": NotFound}.get(exc.code, Invalid)(str(exc))
        elif isinstance(exc, MlflowError):
            if exc.status == 404:
                exc = NotFound(exc.message)
            elif exc.status == 403:
                exc = PermissionDenied(exc.message)
            else:
                exc = Invalid(exc.message)
        record_drf_denial(self.request, exc, source=source)
        return super().handle_exception(exc)

    @staticmethod
    def valid(serializer_class, data, **kwargs):
        serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class WorkspaceView(WardenView):
    """A view under ``/workspaces/<slug>/``: members read, admins write (unless a view says otherwise)."""

    permission_classes = [IsAuthenticated, TokenCaps, WorkspaceRole]
    read_role = Role.VIEWER
    write_role = Role.ADMIN

    @property
    def ctx(self):
        return self.request.warden


def user_named(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise Invalid(f"No active user named '{username}'.")
    return user


# ---------------------------------------------------------------- me


class MeView(WardenView):
    """The caller, the token in use and the effective permissions in each workspace."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        principal = principal_of(request)
        user = principal.user
        body = {
            "username": user.username,
            "is_superuser": user.is_superuser,
            "is_service_account": user.is_service_account,
            "token": principal.token,
            "permissions": selectors.effective_permissions(principal),
        }
        return Response(s.MeSerializer(body).data)


# ---------------------------------------------------------------- workspaces


class WorkspaceListView(WardenView):
    permission_classes = [IsAuthenticated, TokenCaps, SuperuserWrites]

    @extend_schema(responses=s.WorkspaceSerializer(many=True))
    def get(self, request):
        """The workspaces the caller can act in."""
        return Response(s.WorkspaceSerializer(selectors.workspaces_of(principal_of(request)), many=True).data)

    @extend_schema(request=s.WorkspaceCreateInput, responses={201: s.WorkspaceSerializer})
    def post(self, request):
        """Superusers: create a workspace, optionally with its first admin."""
        data = self.valid(s.WorkspaceCreateInput, request.data)
        admin = user_named(data["admin"]) if data.get("admin") else None
        try:
            workspace = services.workspace_create(actor=request.user, slug=data["slug"], name=data.get("name", ""))
        except IntegrityError:
            raise Conflict(f"Workspace '{data['slug']}' already exists.") from None
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        if admin is not None:
            services.membership_set(actor=request.user, workspace=workspace, user=admin, role=Role.ADMIN)
        return Response(s.WorkspaceSerializer(workspace).data, status=status.HTTP_201_CREATED)


class WorkspaceDetailView(WorkspaceView):
    permission_classes = [IsAuthenticated, TokenCaps, SuperuserWrites, WorkspaceRole]

    @extend_schema(responses=s.WorkspaceSerializer)
    def get(self, request, slug):
        return Response(s.WorkspaceSerializer(self.ctx.workspace).data)

    @extend_schema(request=s.WorkspaceUpdateInput, responses=s.WorkspaceSerializer)
    def patch(self, request, slug):
        """Superusers: rename the workspace (the slug stays)."""
        data = self.valid(s.WorkspaceUpdateInput, request.data)
        workspace = services.workspace_update(actor=request.user, workspace=self.ctx.workspace, name=data["name"])
        return Response(s.WorkspaceSerializer(workspace).data)


# ---------------------------------------------------------------- members


class MemberListView(WorkspaceView):
    @extend_schema(responses=s.MemberSerializer(many=True))
    def get(self, request, slug):
        return Response(s.MemberSerializer(selectors.members_of(self.ctx.workspace), many=True).data)

    @extend_schema(request=s.MemberInput, responses={201: s.MemberSerializer})
    def post(self, request, slug):
        """Admins: add a user with a role. Service accounts stay in the workspace that made them."""
        data = self.valid(s.MemberInput, request.data)
        user = user_named(data["username"])
        if selectors.member(self.ctx.workspace, user.username) is not None:
            raise Conflict(f"'{user.username}' is already a member.")
        if user.is_service_account and not request.user.is_superuser:
            raise Invalid("Service accounts belong to the workspace that created them.")
        membership = services.membership_set(actor=request.user, workspace=self.ctx.workspace, user=user, role=data["role"])
        return Response(s.MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(WorkspaceView):
    def member(self, username):
        membership = selectors.member(self.ctx.workspace, username)
        if membership is None:
            raise NotFound(f"'{username}' is not a member of this workspace.")
        return membership

    @extend_schema(responses=s.MemberSerializer)
    def get(self, request, slug, username):
        return Response(s.MemberSerializer(self.member(username)).data)

    @extend_schema(request=s.RoleInput, responses=s.MemberSerializer)
    def patch(self, request, slug, username):
        """Admins: change a member's role."""
        data = self.valid(s.RoleInput, request.data)
        membership = self.member(username)
        membership = services.membership_change(
            actor=request.user, workspace=self.ctx.workspace, user=membership.user, role=data["role"]
        )
        return Response(s.MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, username):
        """Admins: remove a member with their teams, grants and workspace-bound tokens."""
        membership = self.member(username)
        services.membership_remove(actor=request.user, workspace=self.ctx.workspace, user=membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- teams


class TeamListView(WorkspaceView):
    @extend_schema(responses=s.TeamSerializer(many=True))
    def get(self, request, slug):
        return Response(s.TeamSerializer(selectors.teams_of(self.ctx.workspace), many=True).data)

    @extend_schema(request=s.TeamInput, responses={201: s.TeamSerializer})
    def post(self, request, slug):
        data = self.valid(s.TeamInput, request.data)
        team = services.team_create(actor=request.user, workspace=self.ctx.workspace, name=data["name"])
        return Response(s.TeamSerializer(selectors.team(self.ctx.workspace, team.pk)).data, status=status.HTTP_201_CREATED)


class TeamViewMixin:
    def team(self, team_id):
        team = selectors.team(self.ctx.workspace, team_id)
        if team is None:
            raise NotFound(f"Team {team_id} not found.")
        return team


class TeamDetailView(TeamViewMixin, WorkspaceView):
    @extend_schema(responses=s.TeamSerializer)
    def get(self, request, slug, team_id):
        return Response(s.TeamSerializer(self.team(team_id)).data)

    @extend_schema(request=s.TeamInput, responses=s.TeamSerializer)
    def patch(self, request, slug, team_id):
        data = self.valid(s.TeamInput, request.data)
        services.team_rename(actor=request.user, team=self.team(team_id), name=data["name"])
        return Response(s.TeamSerializer(self.team(team_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, team_id):
        """Admins: delete a team; its grants go with it."""
        services.team_delete(actor=request.user, team=self.team(team_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamMemberListView(TeamViewMixin, WorkspaceView):
    @extend_schema(responses=s.TeamSerializer)
    def get(self, request, slug, team_id):
        return Response(s.TeamSerializer(self.team(team_id)).data)

    @extend_schema(request=s.UsernameInput, responses={201: s.TeamSerializer})
    def post(self, request, slug, team_id):
        """Admins: add a member of the workspace to the team."""
        data = self.valid(s.UsernameInput, request.data)
        team = self.team(team_id)
        membership = selectors.member(self.ctx.workspace, data["username"])
        if membership is None:
            raise Invalid(f"'{data['username']}' is not a member of this workspace.")
        services.team_member_add(actor=request.user, team=team, user=membership.user)
        return Response(s.TeamSerializer(self.team(team_id)).data, status=status.HTTP_201_CREATED)


class TeamMemberDetailView(TeamViewMixin, WorkspaceView):
    @extend_schema(responses={204: None})
    def delete(self, request, slug, team_id, username):
        team = self.team(team_id)
        user = team.group.user_set.filter(username=username).first()
        if user is None:
            raise NotFound(f"'{username}' is not in team '{team.name}'.")
        services.team_member_remove(actor=request.user, team=team, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)

