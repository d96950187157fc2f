"""How the OpenAPI schema describes Warden's authentication: an API token as a Bearer token."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A Warden API token (wdn_...), as MLFLOW_TRACKING_TOKEN sends it.",
        }
