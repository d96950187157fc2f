"""The storage adapter: artifact bytes in any Django storage, under server-derived keys.

``ArtifactStore`` drives a storage through the plain Storage API with object-store semantics (a
folder exists while it holds something), which is what an S3 storage from django-storages
offers; ``experiments.artifacts.local`` specialises it for a folder on local disk. Bytes always
stream: uploads are read in ``CHUNK_SIZE`` pieces into a staging file and published in one step,
so an aborted upload leaves nothing half-written; reads hand out an open file. Nothing here
parses, unpickles or executes what it stores.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from django.core.files import File
from django.http import UnreadablePostError

from experiments.artifacts.paths import UnsafePath, check_path, join_path

CHUNK_SIZE = 1024 * 1024


class ArtifactNotFound(Exception):
    pass


class IsADirectory(Exception):
    pass


class PathConflict(Exception):
    """A file stands where a folder is needed, or a folder where a file would go."""


class IncompleteUpload(Exception):
    """The client sent fewer bytes than it announced, or its stream broke off."""


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool
    size: int | None  # None for folders


def checked_key(key: str) -> str:
    """Keys are built by the server, but are checked again here: the last line of defence."""
    try:
        return check_path(key)
    except UnsafePath as exc:
        raise ValueError(f"unsafe storage key ({exc})") from None


def _copy_stream(stream, target, expected_size: int | None) -> int:
    """Copy ``stream`` into the open file ``target`` in chunks; return the byte count."""
    total = 0
    while True:
        try:
            chunk = stream.read(CHUNK_SIZE)
        except (UnreadablePostError, OSError) as exc:
            raise IncompleteUpload("the upload stream broke off") from exc
        if not chunk:
            break
        target.write(chunk)
        total += len(chunk)
    if expected_size is not None and total != expected_size:
        raise IncompleteUpload(f"received {total} of {expected_size} announced bytes")
    return total


class Staged:
    """Bytes received but not yet visible: ``commit`` publishes them, ``discard`` drops them."""

    def __init__(self, store, temp_path: str, size: int):
        self.store = store
        self.temp_path = temp_path
        self.size = size
        self.done = False

    def commit(self, key: str) -> None:
        self.store._publish(self, checked_key(key))
        self.done = True

    def discard(self) -> None:
        if not self.done:
            self.done = True
            try:
                os.unlink(self.temp_path)
            except FileNotFoundError:
                pass


class ArtifactStore:
    """Any Django storage, with object-store semantics (folders are key prefixes)."""

    def __init__(self, storage):
        self.storage = storage

    # -- writes

    def stage(self, stream, *, expected_size: int | None = None) -> Staged:
        """Receive a stream into a private temporary file (on disk, never in memory)."""
        fd, temp_path = tempfile.mkstemp(prefix="warden-upload-")
        return self._fill(fd, temp_path, stream, expected_size)

    def _fill(self, fd, temp_path, stream, expected_size) -> Staged:
        try:
            with os.fdopen(fd, "wb") as target:
                size = _copy_stream(stream, target, expected_size)
                target.flush()
                os.fsync(target.fileno())
        except BaseException:
            try:
                os.unlink(temp_path)
            except FileNotFoundError:
                pass
            raise
        return Staged(self, temp_path, size)

    def _publish(self, staged: Staged, key: str) -> None:
        kind = self.kind(key)
        if kind == "dir":
            raise IsADirectory(key)
        self._require_no_file_ancestor(key)
        if kind == "file":
            self.storage.delete(key)
        with open(staged.temp_path, "rb") as handle:
            saved = self.storage.save(key, File(handle, name=key))
        if saved != key:  # the storage renamed it to avoid a clash: never keep a stray copy
            self.storage.delete(saved)
            raise PathConflict(key)
        staged.discard()

    def _require_no_file_ancestor(self, key: str) -> None:
        parts = key.split("/")
        for depth in range(1, len(parts)):
            if self.kind("/".join(parts[:depth])) == "file":
                raise PathConflict(key)

    def delete(self, key: str) -> bool:
        """Delete a file or a whole folder; False when nothing was there."""
        key = checked_key(key)
        kind = self.kind(key)
        if kind == "missing":
            return False
        if kind == "file":
            self.storage.delete(key)
            return True
        self._delete_tree(key)
        return True

    def _delete_tree(self, key: str) -> None:
        dirs, files = self._listdir(key)
        for name in files:
            self.storage.delete(join_path(key, name))
        for name in dirs:
            self._delete_tree(join_path(key, name))
        self.storage.delete(key)  # a real folder node, where the storage has them

    # -- reads

    def _listdir(self, key: str):
        try:
            return self.storage.listdir(key)
        except (FileNotFoundError, NotADirectoryError, FileExistsError):
            return None, None

    def _exists(self, key: str) -> bool:
        try:
            return self.storage.exists(key)
        except OSError:  # a file stands where the key needs a folder
            return False

    def _is_file(self, key: str) -> bool:
        if not self._exists(key):
            return False
        try:
            self.storage.size(key)  # folders have no size where the storage keeps folder nodes
        except OSError:
            return False
        return True

    def kind(self, key: str) -> str:
        """'file', 'dir' or 'missing' (an empty folder of a storage that keeps folders is a 'dir')."""
        dirs, files = self._listdir(key)
        if dirs or files:
            return "dir"
        if self._is_file(key):
            return "file"
        if dirs is not None and self._exists(key):
            return "dir"
        return "missing"

    def list_dir(self, key: str) -> list[Entry]:
        """The entries directly under a folder, sorted by name; [] for a file or nothing."""
        key = checked_key(key)
        dirs, files = self._listdir(key)
        if dirs is None:
            return []
        entries = [Entry(name, True, None) for name in dirs]
        entries += [Entry(name, False, self.storage.size(join_path(key, name))) for name in files]
        return sorted(entries, key=lambda entry: entry.name)

    def open_for_read(self, key: str):
        """An open binary file object; raises ArtifactNotFound or IsADirectory."""
        key = checked_key(key)
        kind = self.kind(key)
        if kind == "missing":
            raise ArtifactNotFound(key)
        if kind == "dir":
            raise IsADirectory(key)
        try:
            return self.storage.open(key, "rb")
        except FileNotFoundError:
            raise ArtifactNotFound(key) from None

    def list_root(self) -> list[Entry]:
        """The folders at the top of the store (one per workspace), for the orphan sweep."""
        dirs, _ = self._listdir("")
        return sorted(Entry(name, True, None) for name in dirs or [])

    def modified_time(self, key: str) -> float | None:
        """When anything under ``key`` last changed (epoch seconds); None when the storage cannot say."""
        key = checked_key(key)
        if self.kind(key) == "file":
            return self.storage.get_modified_time(key).timestamp()
        newest = None
        for entry in self.list_dir(key):
            stamp = self.modified_time(join_path(key, entry.name))
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
        return newest

    def abandoned_uploads(self, older_than_seconds: int) -> list[str]:
        """Staging files live in the system temp folder and are removed by their request."""
        return []

    def abandoned_uploads_purge(self, older_than_seconds: int) -> int:
        return 0
