"""Grants on one experiment or registered model: list, grant, change, revoke (MANAGE needed).

The object is fetched by the same access helpers as the MLflow API, so an object the caller
cannot see answers 404 exactly like a missing one, and one they see without MANAGE answers 403.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.api.views import Invalid, WorkspaceView
from accounts.models import Role
from accounts.permissions import Level, parse_level
from experiments.access import access_experiment
from registry.access import access_registered_model


class GrantsMixin:
    """Workspace members reach these views; MANAGE on the object is checked per request."""

    read_role = Role.VIEWER
    write_role = Role.VIEWER
    kind = ""  # "experiment" or "registered_model"

    def target(self, key):
        if self.kind == "experiment":
            return access_experiment(self.ctx, key, Level.MANAGE)
        return access_registered_model(self.ctx, key, Level.MANAGE)

    def principal(self, principal_kind, principal_key):
        """The user (a member) or team (of this workspace) a grant URL names."""
        if principal_kind == "users":
            membership = selectors.member(self.ctx.workspace, principal_key)
            if membership is None:
                raise NotFound(f"'{principal_key}' is not a member of this workspace.")
            return {"user": membership.user}
        team = selectors.team(self.ctx.workspace, principal_key) if str(principal_key).isascii() and str(principal_key).isdigit() else None
        if team is None:
            raise NotFound(f"Team {principal_key} not found.")
        return {"team": team}

    def listing(self, obj):
        return s.GrantSerializer(selectors.grants_on(obj), many=True).data


class GrantListView(GrantsMixin, WorkspaceView):
    @extend_schema(responses=s.GrantSerializer(many=True))
    def get(self, request, slug, key):
        return Response(self.listing(self.target(key)))

    @extend_schema(request=s.GrantInput, responses={201: s.GrantSerializer(many=True)})
    def post(self, request, slug, key):
        """Grant a level to a member or a team; an existing grant of theirs changes to it."""
        obj = self.target(key)
        data = self.valid(s.GrantInput, request.data)
        if "user" in data:
            who = self.principal("users", data["user"])
        else:
            who = self.principal("teams", str(data["team"]))
        _, created = services.grant_set(actor=request.user, obj=obj, level=parse_level(data["level"]), **who)
        return Response(self.listing(obj), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class GrantDetailView(GrantsMixin, WorkspaceView):
    @extend_schema(request=s.LevelInput, responses=s.GrantSerializer(many=True))
    def patch(self, request, slug, key, principal_kind, principal_key):
        """Change the level of an existing grant."""
        obj = self.target(key)
        data = self.valid(s.LevelInput, request.data)
        who = self.principal(principal_kind, principal_key)
        if not any(_matches(row, who) for row in selectors.grants_on(obj)):
            raise NotFound("No such grant.")
        level = parse_level(data["level"])
        if level is None:
            raise Invalid(f"Unknown level {data['level']!r}.")
        services.grant_set(actor=request.user, obj=obj, level=level, **who)
        return Response(self.listing(obj))

    @extend_schema(responses={204: None})
    def delete(self, request, slug, key, principal_kind, principal_key):
        obj = self.target(key)
        services.grant_revoke(actor=request.user, obj=obj, **self.principal(principal_kind, principal_key))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _matches(row, who) -> bool:
    if "user" in who:
        return row["user"] is not None and row["user"].pk == who["user"].pk
    return row["team"] is not None and row["team"].pk == who["team"].pk
