"""Server-level endpoints: health, version and server-info (open, they reveal no data)."""

from importlib.metadata import PackageNotFoundError, version as package_version

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts.routes import public
from experiments.mlflow_api.protocol import json_response

try:
    WARDEN_VERSION = package_version("warden")
except PackageNotFoundError:  # running from a plain checkout
    WARDEN_VERSION = "0.1.0"


@public("a liveness probe for load balancers; answers OK or 503, no data")
@require_GET
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("OK", content_type="text/plain")


@public("the server version, as MLflow's /version; no data")
@require_GET
def version(request):
    return HttpResponse(WARDEN_VERSION, content_type="text/plain")


@public("MLflow's server-info: which features the server offers; the client reads it before signing in")
@require_GET
def server_info(request):
    return json_response(
        {
            "store_type": "SqlStore",
            "workspaces_enabled": True,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "features_enabled": {"gateway": False},
        }
    )
