"""Routes of the pages and of single sign-on (mounted at the site root)."""

from django.urls import path

from accounts.pages import group_mappings, home, service_accounts, signin, tokens
from accounts.routes import public
from accounts.sso import views as sso

WS = "workspaces/<slug:slug>"

urlpatterns = [
    path("", home.home, name="home"),
    path("signin", signin.signin, name="signin"),
    path("signout", public("signing out only ends the caller's own session")(sso.SignOutView.as_view()), name="oidc_logout"),
    path(
        "oidc/authenticate/",
        public("starts single sign-on: a redirect to the identity provider")(sso.AuthenticateView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        public("the identity provider returns here; state, nonce and PKCE verifier decide")(sso.CallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("tokens", tokens.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke", tokens.token_revoke, name="token-revoke"),
    path(f"{WS}/service-accounts", service_accounts.service_accounts, name="service-accounts"),
    path(f"{WS}/service-accounts/<str:username>/tokens", service_accounts.service_account_token, name="service-account-token"),
    path(
        f"{WS}/service-accounts/<str:username>/tokens/<int:token_id>/revoke",
        service_accounts.service_account_token_revoke,
        name="service-account-token-revoke",
    ),
    path(
        f"{WS}/service-accounts/<str:username>/deactivate",
        service_accounts.service_account_deactivate,
        name="service-account-deactivate",
    ),
    path(f"{WS}/group-mappings", group_mappings.group_mappings, name="group-mappings"),
    path(f"{WS}/group-mappings/<int:rule_id>", group_mappings.group_mapping_update, name="group-mapping-update"),
    path(f"{WS}/group-mappings/<int:rule_id>/delete", group_mappings.group_mapping_delete, name="group-mapping-delete"),
]
