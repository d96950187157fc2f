"""Warden's own API, mounted under /api/v1/ (the registry's part lives under /api/v1/registry/)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.api import grant_views, mapping_views, schema, token_views, views  # noqa: F401 (schema registers the auth scheme)
from accounts.routes import public

WS = "workspaces/<slug:slug>"
GRANT_PRINCIPAL = "grants/<str:principal_kind>/<str:principal_key>"

SCHEMA_REASON = "the OpenAPI description of the API's shape (the same as the published source); no data"

urlpatterns = [
    path("me", views.MeView.as_view(), name="api-me"),
    path("workspaces", views.WorkspaceListView.as_view(), name="api-workspaces"),
    path(f"{WS}", views.WorkspaceDetailView.as_view(), name="api-workspace"),
    path(f"{WS}/members", views.MemberListView.as_view(), name="api-members"),
    path(f"{WS}/members/<str:username>", views.MemberDetailView.as_view(), name="api-member"),
    path(f"{WS}/teams", views.TeamListView.as_view(), name="api-teams"),
    path(f"{WS}/teams/<int:team_id>", views.TeamDetailView.as_view(), name="api-team"),
    path(f"{WS}/teams/<int:team_id>/members", views.TeamMemberListView.as_view(), name="api-team-members"),
    path(f"{WS}/teams/<int:team_id>/members/<str:username>", views.TeamMemberDetailView.as_view(), name="api-team-member"),
    path(f"{WS}/experiments/<str:key>/grants", grant_views.GrantListView.as_view(kind="experiment"), name="api-experiment-grants"),
    path(
        f"{WS}/experiments/<str:key>/{GRANT_PRINCIPAL}",
        grant_views.GrantDetailView.as_view(kind="experiment"),
        name="api-experiment-grant",
    ),
    path(
        f"{WS}/registered-models/<str:key>/grants",
        grant_views.GrantListView.as_view(kind="registered_model"),
        name="api-model-grants",
    ),
    path(
        f"{WS}/registered-models/<str:key>/{GRANT_PRINCIPAL}",
        grant_views.GrantDetailView.as_view(kind="registered_model"),
        name="api-model-grant",
    ),
    path(f"{WS}/service-accounts", token_views.ServiceAccountListView.as_view(), name="api-service-accounts"),
    path(f"{WS}/service-accounts/<str:username>", token_views.ServiceAccountDetailView.as_view(), name="api-service-account"),
    path(
        f"{WS}/service-accounts/<str:username>/tokens",
        token_views.ServiceAccountTokenListView.as_view(),
        name="api-service-account-tokens",
    ),
    path(
        f"{WS}/service-accounts/<str:username>/tokens/<int:token_id>",
        token_views.ServiceAccountTokenDetailView.as_view(),
        name="api-service-account-token",
    ),
    path(f"{WS}/group-mappings", mapping_views.GroupMappingListView.as_view(), name="api-group-mappings"),
    path(f"{WS}/group-mappings/<int:rule_id>", mapping_views.GroupMappingDetailView.as_view(), name="api-group-mapping"),
    path("tokens", token_views.TokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:token_id>", token_views.TokenDetailView.as_view(), name="api-token"),
    path("schema/", public(SCHEMA_REASON)(SpectacularAPIView.as_view()), name="api-schema"),
    path("docs/", public(SCHEMA_REASON)(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("redoc/", public(SCHEMA_REASON)(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
]
