"""API tokens: the caller's own, and service accounts with their tokens (workspace admins).

A token's secret is in the creation answer only. A request made with a token can only create a
token no broader than itself: bound to the same workspace, expiring no later.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.api.permissions import principal_of
from accounts.api.views import Invalid, WardenView, WorkspaceView
from accounts.models import Role, Workspace


def _created(token, plaintext):
    return Response(s.TokenCreatedSerializer(token, context={"plaintext": plaintext}).data, status=status.HTTP_201_CREATED)


def _not_broader(principal, workspace, expires_at):
    """A token minted with a token inherits its limits."""
    parent = principal.token
    if parent is None:
        return
    if parent.workspace_id is not None and (workspace is None or workspace.pk != parent.workspace_id):
        raise Invalid("A token bound to a workspace can only create tokens bound to the same workspace.")
    if parent.expires_at is not None and (expires_at is None or expires_at > parent.expires_at):
        raise Invalid("A token can only create tokens that expire no later than itself.")


def _future(expires_at):
    from django.utils import timezone

    if expires_at is not None and expires_at <= timezone.now():
        raise Invalid("'expires_at' must be in the future.")


class TokenListView(WardenView):
    @extend_schema(responses=s.TokenSerializer(many=True))
    def get(self, request):
        """The caller's own tokens, newest first (revoked ones included, with their time)."""
        return Response(s.TokenSerializer(selectors.tokens_of(request.user), many=True).data)

    @extend_schema(request=s.TokenInput, responses={201: s.TokenCreatedSerializer})
    def post(self, request):
        """Create a token for the caller; the answer holds its secret, shown this once."""
        principal = principal_of(request)
        data = self.valid(s.TokenInput, request.data)
        workspace = None
        if data.get("workspace"):
            workspace = selectors.workspaces_of(principal).filter(slug=data["workspace"]).first()
            if workspace is None:
                raise Invalid(f"Workspace '{data['workspace']}' not found.")
        _future(data.get("expires_at"))
        _not_broader(principal, workspace, data.get("expires_at"))
        token, plaintext = services.token_create(
            actor=request.user,
            user=request.user,
            name=data["name"],
            workspace=workspace,
            read_only=data["read_only"],
            expires_at=data.get("expires_at"),
        )
        return _created(token, plaintext)


class TokenDetailView(WardenView):
    def token(self, request, token_id):
        token = selectors.tokens_of(request.user).filter(pk=token_id).first()
        if token is None:
            raise NotFound(f"Token {token_id} not found.")
        return token

    @extend_schema(responses=s.TokenSerializer)
    def get(self, request, token_id):
        return Response(s.TokenSerializer(self.token(request, token_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, token_id):
        """Revoke one of the caller's tokens; it stops working on the next request."""
        services.token_revoke(actor=request.user, token=self.token(request, token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- service accounts (admins)


class ServiceAccountMixin:
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def account(self, username):
        user = selectors.service_account(self.ctx.workspace, username)
        if user is None:
            raise NotFound(f"Service account '{username}' not found.")
        return user


class ServiceAccountListView(ServiceAccountMixin, WorkspaceView):
    @extend_schema(responses=s.ServiceAccountSerializer(many=True))
    def get(self, request, slug):
        return Response(s.ServiceAccountSerializer(selectors.service_accounts_of(self.ctx.workspace), many=True).data)

    @extend_schema(request=s.ServiceAccountInput, responses={201: s.ServiceAccountSerializer})
    def post(self, request, slug):
        """Create a token-only account that is a member of this workspace (and only of it)."""
        data = self.valid(s.ServiceAccountInput, request.data)
        user = services.service_account_create(
            actor=request.user, workspace=self.ctx.workspace, username=data["username"], role=data["role"]
        )
        return Response(s.ServiceAccountSerializer(user).data, status=status.HTTP_201_CREATED)


class ServiceAccountDetailView(ServiceAccountMixin, WorkspaceView):
    @extend_schema(responses=s.ServiceAccountSerializer)
    def get(self, request, slug, username):
        return Response(s.ServiceAccountSerializer(self.account(username)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, username):
        """Deactivate the account and revoke its tokens."""
        services.service_account_deactivate(actor=request.user, user=self.account(username))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ServiceAccountTokenListView(ServiceAccountMixin, WorkspaceView):
    @extend_schema(responses=s.TokenSerializer(many=True))
    def get(self, request, slug, username):
        return Response(s.TokenSerializer(selectors.tokens_of(self.account(username)), many=True).data)

    @extend_schema(request=s.ServiceAccountTokenInput, responses={201: s.TokenCreatedSerializer})
    def post(self, request, slug, username):
        """A token for the service account, always bound to this workspace."""
        account = self.account(username)
        if not account.is_active:
            raise Invalid(f"Service account '{username}' is deactivated.")
        data = self.valid(s.ServiceAccountTokenInput, request.data)
        workspace: Workspace = self.ctx.workspace
        _future(data.get("expires_at"))
        _not_broader(principal_of(request), workspace, data.get("expires_at"))
        token, plaintext = services.token_create(
            actor=request.user,
            user=account,
            name=data["name"],
            workspace=workspace,
            read_only=data["read_only"],
            expires_at=data.get("expires_at"),
        )
        return _created(token, plaintext)


class ServiceAccountTokenDetailView(ServiceAccountMixin, WorkspaceView):
    @extend_schema(responses={204: None})
    def delete(self, request, slug, username, token_id):
        token = selectors.tokens_of(self.account(username)).filter(pk=token_id).first()
        if token is None:
            raise NotFound(f"Token {token_id} not found.")
        services.token_revoke(actor=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
