"""In-memory file storage behind the stand-in's ``/files/{name}`` route.

Generated files are named by content hash, so identical outputs share one URL. The store is bounded by
``max_bytes``; the oldest files are evicted first. Generation runs in worker threads, so every
access takes a lock.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

logger = logging.getLogger(__name__)

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StoredFile:
    name: str
    data: bytes
    content_type: str
    created_at: float


class FileStore:
    """Thread-safe map from file name to bytes and content type."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._total_bytes = 0
        self._lock = threading.Lock()

    def put_generated(self, data: bytes, content_type: str, extension: str) -> StoredFile:
        """Store a generated file under ``<sha256 prefix>.<extension>`` and return it."""
        name = f"{hashlib.sha256(data).hexdigest()[:32]}.{extension}"
        return self.put(name, data, content_type)

    def put_upload(self, data: bytes, content_type: str, file_name: str | None) -> StoredFile:
        """Store an uploaded file under ``<sha256 prefix>-<sanitized file name>`` and return it."""
        return self.put(upload_name(data, file_name), data, content_type)

    def put(self, name: str, data: bytes, content_type: str) -> StoredFile:
        stored = StoredFile(name=name, data=data, content_type=content_type, created_at=time.time())
        with self._lock:
            previous = self._files.pop(name, None)
            if previous is not None:
                self._total_bytes -= len(previous.data)
            self._files[name] = stored
            self._total_bytes += len(data)
            self._evict_locked(keep=name)
        return stored

    def get(self, name: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(name)

    def set_max_bytes(self, max_bytes: int) -> None:
        with self._lock:
            self._max_bytes = max_bytes
            self._evict_locked(keep=None)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._total_bytes = 0

    def _evict_locked(self, keep: str | None) -> None:
        while self._total_bytes > self._max_bytes and len(self._files) > (1 if keep else 0):
            name, evicted = next(iter(self._files.items()))
            if name == keep:
                self._files.move_to_end(name)
                continue
            del self._files[name]
            self._total_bytes -= len(evicted.data)
            logger.info("fal_standin.file.evicted", extra={"file_name": name, "size_bytes": len(evicted.data)})


def upload_name(data: bytes, file_name: str | None) -> str:
    """Return the storage name of an upload: a content hash prefix plus the sanitized original name."""
    safe = _UNSAFE_NAME_CHARS.sub("_", file_name or "upload.bin").strip("._") or "upload.bin"
    return f"{hashlib.sha256(data).hexdigest()[:24]}-{safe[:80]}"
