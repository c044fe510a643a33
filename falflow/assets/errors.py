"""Failures of the storage backends.

These are server-side faults, not user errors, so they do not derive from `FalflowError`.
The API turns a missing stored object into a 404 where that is accurate, and lets anything
else reach the generic 500 handler.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every storage backend failure."""


class InvalidStorageKeyError(StorageError, ValueError):
    """A key that breaks the key rules, or that would leave the storage root."""


class StoredObjectNotFoundError(StorageError, LookupError):
    """No object is stored under the key."""


class InvalidByteRangeError(StorageError, ValueError):
    """A byte range that does not lie inside the stored object."""


class SharedFileGoneError(StorageError):
    """The stored file that new bytes were to share lost its last live asset before the row was stored.

    Preparing the bytes again writes a file of their own.
    """
