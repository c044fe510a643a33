"""Configuration of the storage backend for asset files.

`StorageConfig.from_settings` maps these `FALFLOW_*` settings (attributes of `Settings`):

| setting                          | attribute                | default                  |
|----------------------------------|--------------------------|--------------------------|
| `FALFLOW_STORAGE_BACKEND`        | `storage_backend`        | `local`                  |
| `FALFLOW_DATA_DIR`               | `files_dir` (derived)    | `<data_dir>/files`       |
| `FALFLOW_S3_BUCKET`              | `s3_bucket`              | none; required for `s3`  |
| `FALFLOW_S3_ENDPOINT_URL`        | `s3_endpoint_url`        | AWS's endpoint           |
| `FALFLOW_S3_REGION`              | `s3_region`              | `us-east-1`              |
| `FALFLOW_S3_ACCESS_KEY_ID`       | `s3_access_key_id`       | boto3's credential chain |
| `FALFLOW_S3_SECRET_ACCESS_KEY`   | `s3_secret_access_key`   | boto3's credential chain |
| `FALFLOW_S3_PREFIX`              | `s3_prefix`              | empty                    |
| `FALFLOW_S3_ADDRESSING_STYLE`    | `s3_addressing_style`    | `path`                   |
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from falflow.kit.errors import ConfigurationError
from falflow.settings import Settings

if TYPE_CHECKING:
    from falflow.assets.storage import AssetStorage

StorageBackend = Literal["local", "s3"]
AddressingStyle = Literal["path", "virtual", "auto"]


@dataclass(frozen=True)
class S3Config:
    """Location of the S3-compatible bucket and the credentials to sign requests with."""

    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = field(default=None, repr=False)
    prefix: str = ""
    # Path-style addressing works with MinIO, moto and most self-hosted stores.
    addressing_style: AddressingStyle = "path"
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0


@dataclass(frozen=True)
class StorageConfig:
    """The storage backend for asset files: a local folder, or an S3-compatible bucket."""

    backend: StorageBackend
    local_root: Path
    s3: S3Config | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> StorageConfig:
        backend = str(_setting(settings, "storage_backend", "local")).lower()
        if backend == "local":
            return cls(backend="local", local_root=settings.files_dir)
        if backend != "s3":
            raise ConfigurationError(
                f"FALFLOW_STORAGE_BACKEND is {backend!r}, which is not a storage backend; set it to 'local' or 's3'."
            )

        bucket = _setting(settings, "s3_bucket", None)
        if not bucket:
            raise ConfigurationError(
                "FALFLOW_STORAGE_BACKEND is 's3' but FALFLOW_S3_BUCKET is empty; set the bucket name."
            )

        secret = _setting(settings, "s3_secret_access_key", None)
        style = str(_setting(settings, "s3_addressing_style", "path"))
        if style not in ("path", "virtual", "auto"):
            raise ConfigurationError(
                f"FALFLOW_S3_ADDRESSING_STYLE is {style!r}; set it to 'path', 'virtual' or 'auto'."
            )

        s3 = S3Config(
            bucket=str(bucket),
            endpoint_url=_setting(settings, "s3_endpoint_url", None) or None,
            region=str(_setting(settings, "s3_region", "us-east-1")),
            access_key_id=_setting(settings, "s3_access_key_id", None) or None,
            secret_access_key=secret if isinstance(secret, SecretStr) or secret is None else SecretStr(str(secret)),
            prefix=str(_setting(settings, "s3_prefix", "") or ""),
            addressing_style=style,  # type: ignore[arg-type]
        )
        return cls(backend="s3", local_root=settings.files_dir, s3=s3)


def _setting(settings: Settings, name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def build_storage(config: StorageConfig) -> AssetStorage:
    """Create the backend that `config` names."""
    if config.backend == "s3":
        from falflow.assets.storage_s3 import S3Storage

        if config.s3 is None:
            raise ConfigurationError("The 's3' storage backend needs an S3Config; set FALFLOW_S3_BUCKET.")
        return S3Storage.from_config(config.s3)
    from falflow.assets.storage_local import LocalStorage

    return LocalStorage(config.local_root)


@functools.lru_cache(maxsize=8)
def _cached_storage(config: StorageConfig) -> AssetStorage:
    return build_storage(config)


def storage_for_settings(settings: Settings) -> AssetStorage:
    """Return the process-wide storage backend for `settings`, created on first use."""
    return _cached_storage(StorageConfig.from_settings(settings))
