"""The one artifact path canonicaliser, the wire address grammar and the storage keys.

Every artifact path a client sends (the URL tail of ``/mlflow-artifacts/artifacts/<path>``, the
``path=`` query of a listing, the ``path`` of ``artifacts/list``) passes ``canonical_path`` before
anything else looks at it. Django has already decoded the URL once; whatever still looks encoded
is refused rather than decoded again, so no second decoding anywhere can turn it into ``..``.

Storage keys are derived by the server from the run or logged model it found:
``<workspace id>/<experiment pk>/<run uuid>/artifacts/<path>`` and
``<workspace id>/<experiment pk>/models/<model id>/artifacts/<path>``. A client never names one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from experiments.errors import invalid

MAX_PATH_BYTES = 1024  # whole path, UTF-8; object stores cap keys at 1024 bytes
MAX_SEGMENT_BYTES = 255  # one name; NAME_MAX of common filesystems

# C0 and C1 controls, DEL, the Unicode line/paragraph separators; backslash (a Windows
# separator); '#', '?' and ';' (fragment, query and path-parameter smuggling in URIs).
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\#?;]")
# A percent-escape that survived Django's decoding: a double-encoded or broken-UTF-8 form.
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_DRIVE = re.compile(r"^[A-Za-z]:")
_EXPERIMENT_ID = re.compile(r"^[0-9]{1,19}$")
_RUN_UUID = re.compile(r"^[0-9a-f]{32}$")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")

ARTIFACTS_SEGMENT = "artifacts"
MODELS_SEGMENT = "models"


class UnsafePath(Exception):
    """Why a path was refused (kept out of the client's answer, which never echoes the path)."""


def _refuse(reason: str):
    raise UnsafePath(reason)


def check_path(raw) -> str:
    """Return ``raw`` as a canonical relative path ("a/b/c"), or raise UnsafePath.

    Canonical means: a non-empty string of names joined by single slashes, none of them empty,
    ``.`` or ``..`` (nor a Unicode look-alike that NFKC folds to one) or starting with a drive
    letter; not absolute; no control characters, backslashes, ``#``, ``?``, ``;`` or leftover
    percent-escapes; within the length limits. Nothing is rewritten: the result is the input.
    """
    if not isinstance(raw, str) or raw == "":
        _refuse("empty path")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        _refuse("path too long")
    if _FORBIDDEN_CHARS.search(raw):
        _refuse("forbidden character")
    if _PERCENT_ESCAPE.search(raw):
        _refuse("encoded characters")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot name a file
        _refuse("invalid unicode")
    if raw.startswith("/"):
        _refuse("absolute path")
    for segment in raw.split("/"):
        if segment == "":
            _refuse("empty segment")
        if _DRIVE.match(segment):  # "C:" restarts a path on Windows wherever it appears
            _refuse("absolute path")
        if segment in (".", "..") or unicodedata.normalize("NFKC", segment) in (".", ".."):
            _refuse("relative segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            _refuse("name too long")
    return raw


def canonical_path(raw, *, allow_empty: bool = False, trailing_slash: bool = False) -> str:
    """``check_path`` with MLflow's 400 INVALID_PARAMETER_VALUE on refusal.

    ``allow_empty`` accepts ""/None as the root; ``trailing_slash`` accepts one final "/" (a
    listing of "dir/" lists "dir").
    """
    if raw is None or raw == "":
        if allow_empty:
            return ""
        raise invalid("Invalid artifact path: the path is empty.")
    if trailing_slash and isinstance(raw, str) and raw.endswith("/") and raw != "/":
        raw = raw[:-1]
    try:
        return check_path(raw)
    except UnsafePath as exc:
        raise invalid(f"Invalid artifact path ({exc}).") from None


def join_path(*parts: str) -> str:
    """Join canonical pieces, skipping empty ones."""
    return "/".join(part for part in parts if part)


# ---------------------------------------------------------------- wire addresses


@dataclass(frozen=True)
class ArtifactAddress:
    """A parsed ``mlflow-artifacts`` path: whose artifacts, and which path below their root."""

    experiment_id: str  # the wire id ("0" = the workspace's Default experiment)
    run_uuid: str | None
    model_id: str | None
    relpath: str  # canonical, "" for the root

    @property
    def wire_path(self) -> str:
        if self.model_id:
            root = f"{self.experiment_id}/{MODELS_SEGMENT}/{self.model_id}/{ARTIFACTS_SEGMENT}"
        else:
            root = f"{self.experiment_id}/{self.run_uuid}/{ARTIFACTS_SEGMENT}"
        return join_path(root, self.relpath)


def parse_address(path: str) -> ArtifactAddress | None:
    """Split a canonical path into its address, or None if it is neither accepted form.

    Forms: ``<exp>/<run uuid>/artifacts[/<path>]`` and ``<exp>/models/<model id>/artifacts[/<path>]``.
    """
    segments = path.split("/")
    if len(segments) < 3 or not _EXPERIMENT_ID.match(segments[0]):
        return None
    if segments[1] == MODELS_SEGMENT:
        if len(segments) < 4 or not _MODEL_ID.match(segments[2]) or segments[3] != ARTIFACTS_SEGMENT:
            return None
        return ArtifactAddress(segments[0], None, segments[2], "/".join(segments[4:]))
    if not _RUN_UUID.match(segments[1]) or segments[2] != ARTIFACTS_SEGMENT:
        return None
    return ArtifactAddress(segments[0], segments[1], None, "/".join(segments[3:]))


# ---------------------------------------------------------------- storage keys


def run_artifact_root(run) -> str:
    """The storage key prefix of a run's artifacts (``run.experiment`` must be loaded or loadable)."""
    experiment = run.experiment
    return f"{experiment.workspace_id}/{experiment.pk}/{run.run_uuid}/{ARTIFACTS_SEGMENT}"


def logged_model_artifact_root(model) -> str:
    """The storage key prefix of a logged model's artifacts."""
    experiment = model.experiment
    return f"{experiment.workspace_id}/{experiment.pk}/{MODELS_SEGMENT}/{model.model_id}/{ARTIFACTS_SEGMENT}"


def experiment_artifact_root(experiment) -> str:
    """Everything stored for one experiment (its runs and logged models): for purge jobs."""
    return f"{experiment.workspace_id}/{experiment.pk}"


def workspace_artifact_root(workspace) -> str:
    """Everything stored for one workspace: for purge jobs."""
    return str(workspace.pk)
