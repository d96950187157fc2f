"""mozilla-django-oidc's SessionRefresh, reading Warden's SSO configuration when it runs.

Every ``WARDEN_OIDC_SESSION_REFRESH_SECONDS`` an SSO session's next page view goes back to the
provider with ``prompt=none``: a user still signed in there comes straight back; one disabled or
signed out there gets an error, and the callback ends the Warden session. Local sign-ins and
token-authenticated calls are never refreshed.
"""

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin
from mozilla_django_oidc.middleware import SessionRefresh as LibrarySessionRefresh

from accounts.sso import config


class SessionRefresh(LibrarySessionRefresh):
    def __init__(self, get_response):  # the library reads the provider's endpoints here
        MiddlewareMixin.__init__(self, get_response)
        self.OIDC_EXEMPT_URLS = settings.OIDC_EXEMPT_URLS
        self.OIDC_STATE_SIZE = 32
        self.OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
        self.OIDC_USE_NONCE = True
        self.OIDC_NONCE_SIZE = 32

    OIDC_OP_AUTHORIZATION_ENDPOINT = property(lambda self: config.provider().authorization_endpoint)
    OIDC_RP_CLIENT_ID = property(lambda self: config.client_id())
    OIDC_RP_SCOPES = property(lambda self: config.scopes())

    def is_refreshable_url(self, request):
        if not config.enabled() or "HTTP_AUTHORIZATION" in request.META:
            return False
        return super().is_refreshable_url(request)

    def process_request(self, request):
        try:
            return super().process_request(request)
        except config.ProviderUnavailable:
            from accounts.sso.views import failure_page

            return failure_page(request, "The identity provider cannot be reached; try again shortly.", status=503)
