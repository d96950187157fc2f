"""Which artifact store is configured, and the functions the rest of Warden calls.

The default is a ``FileSystemStorage`` rooted at ``settings.ARTIFACT_ROOT`` (``WARDEN_ARTIFACT_ROOT``).
Any other Django storage can be plugged in as ``STORAGES["artifacts"]`` and is driven through the
generic adapter (``store.ArtifactStore``). ``s3://`` roots are refused until that backend is wired
and tested against a real S3 endpoint.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, InvalidStorageError, storages

from experiments.artifacts.local import STAGING_DIR, LocalArtifactStore
from experiments.artifacts.store import (
    CHUNK_SIZE,
    ArtifactNotFound,
    ArtifactStore,
    Entry,
    IncompleteUpload,
    IsADirectory,
    PathConflict,
    Staged,
)

STORAGE_ALIAS = "artifacts"

__all__ = [
    "CHUNK_SIZE",
    "STAGING_DIR",
    "ArtifactNotFound",
    "ArtifactStore",
    "Entry",
    "IncompleteUpload",
    "IsADirectory",
    "LocalArtifactStore",
    "PathConflict",
    "Staged",
]


def get_store() -> ArtifactStore:
    """The configured store. Built per call: cheap, and follows settings changes in tests."""
    try:
        configured = storages[STORAGE_ALIAS]
    except InvalidStorageError:
        configured = None
    if configured is not None:
        if isinstance(configured, FileSystemStorage):
            return LocalArtifactStore(configured)
        return ArtifactStore(configured)
    root = str(settings.ARTIFACT_ROOT)
    if "://" in root:
        raise ImproperlyConfigured(
            f"WARDEN_ARTIFACT_ROOT={root.split('://')[0]}://... is not supported by this build: "
            "set it to a local folder, or configure STORAGES['artifacts'] with a Django storage."
        )
    return LocalArtifactStore(FileSystemStorage(location=root))


# The functions the rest of Warden calls.


def save_stream(key: str, stream, *, expected_size: int | None = None) -> int:
    """Stream ``stream`` to ``key`` and publish it atomically; return the byte count."""
    store = get_store()
    staged = store.stage(stream, expected_size=expected_size)
    try:
        staged.commit(key)
    finally:
        staged.discard()
    return staged.size


def stage_stream(stream, *, expected_size: int | None = None) -> Staged:
    return get_store().stage(stream, expected_size=expected_size)


def open_for_read(key: str):
    return get_store().open_for_read(key)


def list_dir(key: str) -> list[Entry]:
    return get_store().list_dir(key)


def delete_path(key: str) -> bool:
    return get_store().delete(key)


def delete_prefix(key_prefix: str) -> bool:
    """Remove everything stored under a key prefix, folder-wise ("1/2" never touches "1/20")."""
    return get_store().delete(key_prefix)


def path_kind(key: str) -> str:
    return get_store().kind(key)


def abandoned_uploads_purge(older_than_seconds: int = 24 * 3600) -> int:
    return get_store().abandoned_uploads_purge(older_than_seconds)
