"""Single sign-on with OpenID Connect (mozilla-django-oidc), configured from ``WARDEN_OIDC_*``."""
