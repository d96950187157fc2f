"""A folder on local disk as the artifact store: atomic publish by rename, symlink-safe paths."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import time

from django.core.files.storage import FileSystemStorage

from experiments.artifacts.store import (
    ArtifactNotFound,
    ArtifactStore,
    Entry,
    IsADirectory,
    PathConflict,
    Staged,
    checked_key,
)

STAGING_DIR = ".incoming"  # under the root; no key can name it (keys start with a workspace id)


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
        path = os.path.join(self.root, *checked_key(key).split("/"))
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

    def list_root(self) -> list[Entry]:
        entries = []
        with os.scandir(self.root) as scan:
            for item in scan:
                if item.is_dir(follow_symlinks=False) and item.name != STAGING_DIR:
                    entries.append(Entry(item.name, True, None))
        return sorted(entries, key=lambda entry: entry.name)

    def modified_time(self, key: str) -> float | None:
        """The folder's own time: it changes when an entry is added or removed directly in it."""
        try:
            return os.lstat(self._path(key)).st_mtime
        except (FileNotFoundError, NotADirectoryError, PathConflict):
            return None

    def abandoned_uploads(self, older_than_seconds: int) -> list[str]:
        """Staging files older than the given age (left by a crashed or killed process)."""
        limit = time.time() - older_than_seconds
        staging = os.path.join(self.root, STAGING_DIR)
        try:
            scan = os.scandir(staging)
        except FileNotFoundError:
            return []
        with scan:
            return sorted(
                item.name
                for item in scan
                if item.is_file(follow_symlinks=False) and item.stat(follow_symlinks=False).st_mtime < limit
            )

    def abandoned_uploads_purge(self, older_than_seconds: int) -> int:
        """Remove staging files older than the given age; only plain files in the staging folder."""
        removed = 0
        staging = os.path.join(self.root, STAGING_DIR)
        for name in self.abandoned_uploads(older_than_seconds):
            try:
                os.unlink(os.path.join(staging, name))
                removed += 1
            except FileNotFoundError:
                pass
        return removed
