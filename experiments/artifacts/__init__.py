"""Warden's artifact store: path canonicaliser, storage keys, streaming storage, write services.

What the rest of Warden calls:

- ``run_artifact_root(run)`` / ``logged_model_artifact_root(model)``: storage key prefixes;
- ``save_stream(key, stream)``, ``open_for_read(key)``, ``list_dir(key)``, ``delete_prefix(key)``;
- ``services.artifact_save`` / ``services.artifact_delete`` for writes made on a user's behalf.
"""

from experiments.artifacts.paths import (
    canonical_path,
    experiment_artifact_root,
    logged_model_artifact_root,
    run_artifact_root,
    workspace_artifact_root,
)
from experiments.artifacts.storage import (
    Entry,
    abandoned_uploads_purge,
    delete_path,
    delete_prefix,
    get_store,
    list_dir,
    open_for_read,
    save_stream,
)

__all__ = [
    "Entry",
    "abandoned_uploads_purge",
    "canonical_path",
    "delete_path",
    "delete_prefix",
    "experiment_artifact_root",
    "get_store",
    "list_dir",
    "logged_model_artifact_root",
    "open_for_read",
    "run_artifact_root",
    "save_stream",
    "workspace_artifact_root",
]
