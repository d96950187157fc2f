"""System checks of the SSO settings: a half-configured provider fails at start, not at the
first sign-in."""

from django.conf import settings
from django.core import checks

from accounts.sso import config


@checks.register(checks.Tags.security)
def sso_settings(app_configs=None, **kwargs):
    errors = []
    if settings.WARDEN_OIDC_SIGN_ALGO not in config.ALLOWED_ALGORITHMS:
        errors.append(checks.Error(f"WARDEN_OIDC_SIGN_ALGO must be one of {', '.join(config.ALLOWED_ALGORITHMS)}.", id="warden.E101"))
    if settings.WARDEN_OIDC_PROVISIONING not in config.PROVISIONING_POLICIES:
        errors.append(checks.Error(f"WARDEN_OIDC_PROVISIONING must be one of {', '.join(config.PROVISIONING_POLICIES)}.", id="warden.E102"))
    if config.enabled():
        if not (settings.WARDEN_OIDC_CLIENT_ID and settings.WARDEN_OIDC_CLIENT_SECRET):
            errors.append(checks.Error("WARDEN_OIDC_ISSUER is set: set WARDEN_OIDC_CLIENT_ID and WARDEN_OIDC_CLIENT_SECRET too.", id="warden.E103"))
        if not settings.WARDEN_OIDC_ISSUER.startswith(("https://", "http://127.0.0.1", "http://localhost")) and not settings.DEBUG:
            errors.append(checks.Warning("WARDEN_OIDC_ISSUER should be an https:// URL.", id="warden.W101"))
    return errors
