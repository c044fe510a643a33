"""`AssetStorage` on the local file system, under one root folder.

Every path is built from a checked key, must resolve inside the root, and may not pass through
a symbolic link. Files are also opened with `O_NOFOLLOW`, so a link planted after the check is
not followed either. Writes go to a temporary file in the target folder and are renamed
into place, so a reader never sees a partial file and a failed write leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from falflow.assets.errors import InvalidStorageKeyError, StoredObjectNotFoundError
from falflow.assets.storage import CHUNK_SIZE, check_byte_range, check_key

logger = logging.getLogger("falflow.assets.storage")

_TEMP_PREFIX = ".partial-"


class LocalStorage:
    """Files under `root`, one per key, the key's segments as folders."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve(strict=True)

    def __repr__(self) -> str:
        return f"LocalStorage(root={str(self.root)!r})"

    def _path(self, key: str) -> Path:
        check_key(key)
        path = self.root
        for segment in key.split("/"):
            path = path / segment
            if path.is_symlink():
                raise InvalidStorageKeyError(
                    f"Storage key {key!r} passes through a symbolic link at {path}; the key is rejected."
                )
        if not path.resolve(strict=False).is_relative_to(self.root):
            raise InvalidStorageKeyError(f"Storage key {key!r} resolves outside the storage root {self.root}.")
        return path

    def _open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError as exc:
            raise StoredObjectNotFoundError(f"No file is stored under key {key!r}.") from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                message = f"Storage key {key!r} names a symbolic link; the key is rejected."
                raise InvalidStorageKeyError(message) from exc
            raise
        handle = os.fdopen(descriptor, "rb")
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            handle.close()
            raise StoredObjectNotFoundError(f"Storage key {key!r} names something other than a regular file.")
        return handle

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        logger.debug("asset.storage.put", extra={"storage_key": key, "size_bytes": len(data)})

    def get(self, key: str) -> bytes:
        with self._open(key) as handle:
            return handle.read()

    def open_range(self, key: str, start: int, end_inclusive: int) -> Iterator[bytes]:
        handle = self._open(key)
        try:
            check_byte_range(start, end_inclusive, os.fstat(handle.fileno()).st_size)
            handle.seek(start)
        except BaseException:
            handle.close()
            raise
        return _read_chunks(handle, end_inclusive - start + 1)

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            info = os.stat(path, follow_symlinks=False)
        except FileNotFoundError as exc:
            raise StoredObjectNotFoundError(f"No file is stored under key {key!r}.") from exc
        if not stat.S_ISREG(info.st_mode):
            raise StoredObjectNotFoundError(f"Storage key {key!r} names something other than a regular file.")
        return info.st_size

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except StoredObjectNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        logger.debug("asset.storage.deleted", extra={"storage_key": key})


def _read_chunks(handle: BinaryIO, length: int) -> Iterator[bytes]:
    with handle:
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                # The file shrank after it was opened; stored files are immutable, so this
                # means someone changed the folder by hand.
                raise StoredObjectNotFoundError(f"Stored file ended {remaining} bytes early.")
            remaining -= len(chunk)
            yield chunk
