"""`AssetStorage` on S3-compatible object storage, through boto3.

This is the only module that imports boto3. A `put` is atomic by the object store's own rules:
readers see the old object or the whole new one. Keys are checked with the same rules as the
local backend and stored below an optional prefix inside one bucket.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from falflow.assets.config import S3Config
from falflow.assets.errors import InvalidByteRangeError, StorageError, StoredObjectNotFoundError
from falflow.assets.storage import CHUNK_SIZE, check_key

logger = logging.getLogger("falflow.assets.storage")

_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def create_s3_client(config: S3Config) -> Any:
    """Create a boto3 S3 client for `config`, with bounded timeouts and retries."""
    secret = config.secret_access_key.get_secret_value() if config.secret_access_key else None
    return boto3.client(
        "s3",
        endpoint_url=config.endpoint_url,
        region_name=config.region,
        aws_access_key_id=config.access_key_id,
        aws_secret_access_key=secret,
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": config.addressing_style},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=config.connect_timeout_seconds,
            read_timeout=config.read_timeout_seconds,
        ),
    )


class S3Storage:
    """Objects in `bucket` under `prefix`; `client` is a boto3 S3 client."""

    def __init__(self, client: Any, bucket: str, *, prefix: str = "") -> None:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_config(cls, config: S3Config) -> S3Storage:
        return cls(create_s3_client(config), config.bucket, prefix=config.prefix)

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._object_key(key), Body=data, ContentType=content_type)
        logger.debug("asset.storage.put", extra={"storage_key": key, "size_bytes": len(data)})

    def get(self, key: str) -> bytes:
        response = self._get_object(key)
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def open_range(self, key: str, start: int, end_inclusive: int) -> Iterator[bytes]:
        if start < 0 or end_inclusive < start:
            raise InvalidByteRangeError(f"Byte range {start}-{end_inclusive} is invalid; ask for 0 <= start <= end.")
        try:
            response = self._get_object(key, Range=f"bytes={start}-{end_inclusive}")
        except ClientError as exc:
            if _error_code(exc) == "InvalidRange":
                raise InvalidByteRangeError(
                    f"Byte range {start}-{end_inclusive} starts past the end of the object under key {key!r}."
                ) from exc
            raise
        body = response["Body"]
        # The store shortens a range that runs past the end instead of failing. The local
        # backend rejects such a range, so this one does too, to keep one contract.
        match = _CONTENT_RANGE.fullmatch(response.get("ContentRange") or "")
        if match is None or int(match.group(1)) != start or int(match.group(2)) != end_inclusive:
            body.close()
            raise InvalidByteRangeError(
                f"Byte range {start}-{end_inclusive} is outside the object under key {key!r} "
                f"(the store returned {response.get('ContentRange')!r})."
            )
        return _iterate_body(body)

    def size(self, key: str) -> int:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise StoredObjectNotFoundError(f"No object is stored under key {key!r}.") from exc
            raise StorageError(f"Reading the size of object {key!r} failed: {_error_code(exc)}.") from exc
        return int(response["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except StoredObjectNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
        logger.debug("asset.storage.deleted", extra={"storage_key": key})

    def _get_object(self, key: str, **arguments: Any) -> Any:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._object_key(key), **arguments)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise StoredObjectNotFoundError(f"No object is stored under key {key!r}.") from exc
            raise


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _iterate_body(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_SIZE)
    finally:
        body.close()
