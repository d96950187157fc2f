"""The OIDC authentication backend: mozilla-django-oidc's code flow with Warden's rules.

Over the library's defaults: RS256/ES256 only, the ID token's audience, issuer and expiry are
checked, the userinfo ``sub`` must be the ID token's, and the user is found by (iss, sub) in
``OidcIdentity`` (never by e-mail alone); linking and provisioning follow
``accounts.sso.provisioning``. Endpoints come from discovery when first needed, so building the
backend (Django does it on every request to load the session's user) costs nothing.
"""

import jwt
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.sso import config, provisioning

REFUSAL_ATTR = "warden_sso_refusal"


class WardenOIDCBackend(OIDCAuthenticationBackend):
    def __init__(self, *args, **kwargs):  # the library reads every endpoint here; we read them lazily
        self.UserModel = get_user_model()
        self.OIDC_RP_IDP_SIGN_KEY = None

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: config.provider().token_endpoint)
    OIDC_OP_USER_ENDPOINT = property(lambda self: config.provider().userinfo_endpoint)
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: config.provider().jwks_uri)
    OIDC_RP_CLIENT_ID = property(lambda self: config.client_id())
    OIDC_RP_CLIENT_SECRET = property(lambda self: config.client_secret())
    OIDC_RP_SIGN_ALGO = property(lambda self: config.sign_algorithm())

    def authenticate(self, request, **kwargs):
        if not config.enabled() or "username" in kwargs or "password" in kwargs:
            return None  # a local sign-in, or SSO is off
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload, key):
        """Only the configured asymmetric algorithm, and the token must be for us, from our issuer."""
        try:
            algorithm = jwt.get_unverified_header(payload).get("alg")
        except jwt.InvalidTokenError:
            raise SuspiciousOperation("Malformed ID token.") from None
        if algorithm != config.sign_algorithm():
            raise SuspiciousOperation(f"ID token signed with {algorithm!r}, expected {config.sign_algorithm()}.")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[algorithm],
                audience=config.client_id(),
                issuer=config.provider().issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=60,
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token rejected: {type(exc).__name__}.") from None

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(claims, dict) or claims.get("sub") != payload.get("sub"):
            self._refuse(provisioning.Refused("idp_error", "The provider's user info names another user."))
            return None
        try:
            return provisioning.sign_in(issuer=payload["iss"], claims=claims)
        except provisioning.Refused as refusal:
            self._refuse(refusal)
            return None

    def _refuse(self, refusal):
        setattr(self.request, REFUSAL_ATTR, refusal)

    def filter_users_by_claims(self, claims):  # never match by e-mail: identities are (iss, sub)
        return self.UserModel.objects.none()

    # Permissions are ModelBackend's and guardian's to answer; this backend only authenticates.
    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def has_perm(self, user_obj, perm, obj=None):
        return False

    def has_module_perms(self, user_obj, app_label):
        return False
