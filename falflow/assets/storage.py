"""The storage interface for asset files, and the rules every key follows.

Keys are chosen by the server, never by a user: `<owner_id>/<random hex>.<extension>`, where
the extension comes from the sniffed type. Both backends still check every key they receive,
so a crafted key that reaches them by mistake is rejected instead of read or written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from falflow.assets.errors import InvalidByteRangeError, InvalidStorageKeyError

# Size of the chunks that range reads yield, in bytes.
CHUNK_SIZE = 256 * 1024
MAX_KEY_LENGTH = 256

# One to four segments of letters, digits, '.', '_' and '-', each starting with a letter or
# digit. So no segment is empty, '.' or '..', and no key is absolute.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,3}")
_EXTENSION_PATTERN = re.compile(r"[a-z0-9]{1,8}")


def check_key(key: str) -> str:
    """Return `key` unchanged, or raise `InvalidStorageKeyError` if it breaks the key rules."""
    if len(key) > MAX_KEY_LENGTH or not _KEY_PATTERN.fullmatch(key):
        raise InvalidStorageKeyError(
            f"Invalid storage key {key!r}: keys are 1-4 '/'-separated segments of letters, digits, "
            f"'.', '_' and '-' that start with a letter or digit, at most {MAX_KEY_LENGTH} characters."
        )
    return key


def new_object_key(owner_id: uuid.UUID, extension: str) -> str:
    """Return a fresh key for a file of `owner_id` with the given extension (no dot)."""
    if not _EXTENSION_PATTERN.fullmatch(extension):
        raise InvalidStorageKeyError(f"Invalid file extension {extension!r}: use 1-8 lowercase letters or digits.")
    return f"{owner_id}/{uuid.uuid4().hex}.{extension}"


def check_byte_range(start: int, end_inclusive: int, size: int) -> None:
    """Raise `InvalidByteRangeError` unless `start..end_inclusive` lies inside `size` bytes."""
    if start < 0 or end_inclusive < start or end_inclusive >= size:
        raise InvalidByteRangeError(
            f"Byte range {start}-{end_inclusive} is outside the stored object of {size} bytes; "
            "ask for 0 <= start <= end < size."
        )


@runtime_checkable
class AssetStorage(Protocol):
    """A flat store of immutable byte objects under server-chosen keys.

    Every method raises `InvalidStorageKeyError` for a key that breaks the key rules, and the
    readers raise `StoredObjectNotFoundError` when nothing is stored under the key.
    """

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`; readers see either the old object or all of the new one."""
        ...

    def get(self, key: str) -> bytes:
        """Return the whole object."""
        ...

    def open_range(self, key: str, start: int, end_inclusive: int) -> Iterator[bytes]:
        """Return bytes `start..end_inclusive` as chunks of at most `CHUNK_SIZE` bytes.

        The object is opened before this returns, so a missing key or a range outside the
        object (`InvalidByteRangeError`) raises here, not on the first iteration.
        """
        ...

    def size(self, key: str) -> int:
        """Return the object's length in bytes."""
        ...

    def exists(self, key: str) -> bool:
        """Return whether an object is stored under `key`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        ...
