"""MLflow's artifact endpoints: the ``mlflow-artifacts`` proxy and the tracking API's listing.

- ``GET|PUT|DELETE /api/2.0/mlflow-artifacts/artifacts/<path>``: download, upload (raw body),
  delete a file or folder; answers as MLflow's server does (``{}`` on success).
- ``GET /api/2.0/mlflow-artifacts/artifacts?path=<path>``: one folder level, names relative to it.
- ``GET /api/2.0/mlflow/artifacts/list?run_id=&path=``: the same for a run, paths relative to the
  run's root, with ``root_uri``. Like MLflow for proxied roots, it returns one page (no token).
- ``POST /api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/<path>``: multipart uploads are not
  offered; the answer is the one on which the MLflow client falls back to a single PUT.

Bodies are never parsed: uploads stream from the request in chunks, downloads stream from storage.
"""

from __future__ import annotations

import posixpath

from django.http import FileResponse

from experiments.artifacts import storage
from experiments.artifacts.access import (
    DELETE_LEVEL,
    READ_LEVEL,
    WRITE_LEVEL,
    access_artifact_path,
    access_run_artifacts,
    no_such_artifact,
)
from experiments.artifacts.paths import join_path
from experiments.artifacts.services import artifact_delete, artifact_save, model_download_record
from experiments.errors import MlflowError, invalid
from experiments.mlflow_api.protocol import endpoint

# The message on which the MLflow client's multipart upload falls back to a single PUT.
MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"


def _file_infos(entries, prefix: str = "") -> list[dict]:
    files = []
    for entry in entries:
        info = {"path": join_path(prefix, entry.name), "is_dir": entry.is_dir}
        if not entry.is_dir:
            info["file_size"] = entry.size
        files.append(info)
    return files


def _request_stream(request):
    """The body as a stream and its announced size; never ``request.body`` (no buffering)."""
    length = request.META.get("CONTENT_LENGTH")
    if length:
        try:
            size = int(length)
        except ValueError:
            raise invalid("Invalid Content-Length header.") from None
        if size < 0:
            raise invalid("Invalid Content-Length header.")
        return request, size
    if request.META.get("wsgi.input_terminated"):
        # A chunked upload: the server de-chunks and ends the input stream (gunicorn does).
        return request.META["wsgi.input"], None
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise invalid("Chunked uploads need a server that terminates the input stream; send Content-Length.")
    return request, 0


@endpoint(["GET", "PUT", "DELETE"], parse_body=False)
def artifact(request, ctx, params, artifact_path):
    if request.method == "GET":
        return _download(ctx, artifact_path)
    if request.method == "PUT":
        return _upload(request, ctx, artifact_path)
    target = access_artifact_path(ctx, artifact_path, DELETE_LEVEL)
    artifact_delete(actor=ctx.user, run=target.run, model=target.model, path=target.relpath)
    return {}


def _download(ctx, artifact_path):
    target = access_artifact_path(ctx, artifact_path, READ_LEVEL)
    wire_path = artifact_path
    try:
        handle = storage.open_for_read(target.key)
    except storage.ArtifactNotFound:
        raise no_such_artifact(wire_path) from None
    except storage.IsADirectory:
        raise invalid(f"Artifact path refers to a directory, not a file: '{wire_path}'") from None
    model_download_record(actor=ctx.user, run=target.run, model=target.model, path=target.relpath)
    name = posixpath.basename(target.relpath) or "artifact"
    # Always an attachment of an opaque type: a browser never renders or sniffs an artifact.
    response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/octet-stream")
    response.block_size = storage.CHUNK_SIZE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-cache"
    return response


def _upload(request, ctx, artifact_path):
    target = access_artifact_path(ctx, artifact_path, WRITE_LEVEL)
    if target.relpath == "":
        raise invalid("Cannot upload to an artifact root: the path must name a file below it.")
    stream, size = _request_stream(request)
    artifact_save(
        actor=ctx.user, run=target.run, model=target.model, path=target.relpath, stream=stream, expected_size=size
    )
    return {}


@endpoint(["GET"])
def list_artifacts(request, ctx, params):
    """``?path=<exp>/<run>/artifacts[/dir]``: ``{"files": [...]}``, or ``{}`` when there is nothing."""
    raw = params.str("path", required=True)  # a repeated parameter is refused by Params
    target = access_artifact_path(ctx, raw, READ_LEVEL, trailing_slash=True)
    files = _file_infos(storage.list_dir(target.key))
    return {"files": files} if files else {}


@endpoint(["GET"])
def list_run_artifacts(request, ctx, params):
    """MLflow's ListArtifacts: a run's folder, paths relative to the run's artifact root."""
    run_id, run_uuid = params.str("run_id"), params.str("run_uuid")
    if run_id and run_uuid and run_id != run_uuid:
        raise invalid("Parameters 'run_id' and 'run_uuid' name different runs.")
    run_id = run_id or run_uuid
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    target = access_run_artifacts(ctx, run_id, params.str("path"), READ_LEVEL)
    out = {"root_uri": target.root_uri}
    files = _file_infos(storage.list_dir(target.key), target.relpath)
    if files:
        out["files"] = files
    return out


@endpoint(["POST"], parse_body=False)
def multipart_upload(request, ctx, params, action, artifact_path):
    """Authorised like an upload, then declined: the client falls back to a single PUT."""
    access_artifact_path(ctx, artifact_path, WRITE_LEVEL)
    raise MlflowError(MULTIPART_UNSUPPORTED, "NOT_IMPLEMENTED")
