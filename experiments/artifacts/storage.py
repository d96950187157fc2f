"""Artifact bytes in a Django storage, under keys the server derived (see ``paths``).

The default is a ``FileSystemStorage`` rooted at ``settings.ARTIFACT_ROOT`` (``WARDEN_ARTIFACT_ROOT``).
Any other Django storage can be plugged in as ``STORAGES["artifacts"]``; it is driven through the
plain Storage API with object-store semantics (a folder exists while it holds something), which is
what an S3 storage from django-storages offers. ``s3://`` roots are refused until that backend is
wired and tested.

Bytes always stream: uploads are read in ``CHUNK_SIZE`` pieces into a staging file and published
in one step (an atomic rename on the local filesystem), so an aborted upload leaves nothing
half-written; downloads hand an open file to a streaming response. Nothing here parses, unpickles
or executes what it stores.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import FileSystemStorage, InvalidStorageError, storages
from django.http import UnreadablePostError

from experiments.artifacts.paths import UnsafePath, check_path, join_path

CHUNK_SIZE = 1024 * 1024
STAGING_DIR = ".incoming"  # under the local root; no key can name it (keys start with a workspace id)
STORAGE_ALIAS = "artifacts"


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


def _checked_key(key: str) -> str:
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
        self.store._publish(self, _checked_key(key))
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
        key = _checked_key(key)
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
        key = _checked_key(key)
        dirs, files = self._listdir(key)
        if dirs is None:
            return []
        entries = [Entry(name, True, None) for name in dirs]
        entries += [Entry(name, False, self.storage.size(join_path(key, name))) for name in files]
        return sorted(entries, key=lambda entry: entry.name)

    def open_for_read(self, key: str):
        """An open binary file object; raises ArtifactNotFound or IsADirectory."""
        key = _checked_key(key)
        kind = self.kind(key)
        if kind == "missing":
            raise ArtifactNotFound(key)
        if kind == "dir":
            raise IsADirectory(key)
        try:
            return self.storage.open(key, "rb")
        except FileNotFoundError:
            raise ArtifactNotFound(key) from None

    def abandoned_uploads_purge(self, older_than_seconds: int) -> int:
        """Staging files live in the system temp folder and are removed by their request."""
        return 0


class LocalArtifactStore(ArtifactStore):
    """A folder on local disk: atomic publish by rename, symlink-safe containment."""

    def __init__(self, storage: FileSystemStorage):
        super().__init__(storage)
        self.root = os.path.realpath(storage.location)

    def _path(self, key: str) -> str:
        """The filesystem path of a checked key, which must resolve inside the root.

        A symlink in the tree that leads elsewhere is never followed: the location then counts
        as occupied by something else (PathConflict), so reads find nothing and writes refuse.
        """
        path = os.path.join(self.root, *_checked_key(key).split("/"))
        resolved = os.path.realpath(path)
        if resolved != path or os.path.commonpath([self.root, resolved]) != self.root:
            raise PathConflict(key)
        return path

    def _staging_dir(self) -> str:
        path = os.path.join(self.root, STAGING_DIR)
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path

    def stage(self, stream, *, expected_size: int | None = None) -> Staged:
        """Stage on the same filesystem as the root so that publishing is one rename."""
        fd, temp_path = tempfile.mkstemp(prefix="upload-", dir=self._staging_dir())
        return self._fill(fd, temp_path, stream, expected_size)

    def _publish(self, staged: Staged, key: str) -> None:
        path = self._path(key)
        mode = self.storage.file_permissions_mode
        if mode is not None:
            os.chmod(staged.temp_path, mode)
        for attempt in range(2):  # a concurrent delete may remove the parent between both steps
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if os.path.isdir(path) and not os.path.islink(path):
                    raise IsADirectory(key)
                os.replace(staged.temp_path, path)
                break
            except (FileExistsError, NotADirectoryError):
                raise PathConflict(key) from None
            except IsADirectoryError:
                raise IsADirectory(key) from None
            except FileNotFoundError:
                if attempt:
                    raise
        staged.done = True

    def delete(self, key: str) -> bool:
        """rmtree removes symlinks inside a tree without following them; a key through one refuses."""
        path = self._path(key)
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return False
        if stat.S_ISDIR(mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)
        return True

    def kind(self, key: str) -> str:
        try:
            mode = os.stat(self._path(key)).st_mode
        except (FileNotFoundError, NotADirectoryError, PathConflict):
            return "missing"
        return "dir" if stat.S_ISDIR(mode) else "file"

    def list_dir(self, key: str) -> list[Entry]:
        entries = []
        try:
            with os.scandir(self._path(key)) as scan:  # symlinks are neither files nor folders here
                for item in scan:
                    if item.is_dir(follow_symlinks=False):
                        entries.append(Entry(item.name, True, None))
                    elif item.is_file(follow_symlinks=False):
                        entries.append(Entry(item.name, False, item.stat(follow_symlinks=False).st_size))
        except (FileNotFoundError, NotADirectoryError, PathConflict):
            return []
        return sorted(entries, key=lambda entry: entry.name)

    def open_for_read(self, key: str):
        try:
            path = self._path(key)
        except PathConflict:
            raise ArtifactNotFound(key) from None
        try:
            # O_NOFOLLOW: never serve through a symlink planted in the tree.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except (FileNotFoundError, NotADirectoryError):
            raise ArtifactNotFound(key) from None
        except IsADirectoryError:
            raise IsADirectory(key) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ArtifactNotFound(key) from None
            raise
        try:
            is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        except BaseException:
            os.close(fd)
            raise
        if is_dir:
            os.close(fd)
            raise IsADirectory(key)
        return os.fdopen(fd, "rb")

    def abandoned_uploads_purge(self, older_than_seconds: int) -> int:
        """Remove staging files older than the given age (left by a crashed process)."""
        limit = time.time() - older_than_seconds
        removed = 0
        staging = os.path.join(self.root, STAGING_DIR)
        try:
            scan = os.scandir(staging)
        except FileNotFoundError:
            return 0
        with scan:
            for item in scan:
                if item.is_file(follow_symlinks=False) and item.stat(follow_symlinks=False).st_mtime < limit:
                    try:
                        os.unlink(item.path)
                        removed += 1
                    except FileNotFoundError:
                        pass
        return removed


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
