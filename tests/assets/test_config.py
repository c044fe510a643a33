"""StorageConfig.from_settings and build_storage: local by default, S3 when the settings select it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from falflow.assets.config import StorageConfig, build_storage
from falflow.assets.storage_local import LocalStorage
from falflow.assets.storage_s3 import S3Storage
from falflow.kit.errors import ConfigurationError
from falflow.settings import Settings


class _S3Settings(Settings):
    """Settings with the S3 fields that `StorageConfig.from_settings` reads."""

    storage_backend: str = "s3"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = "testing"
    s3_secret_access_key: SecretStr | None = SecretStr("secret-value-for-tests")
    s3_prefix: str = ""
    s3_addressing_style: str = "path"


def test_default_is_local_storage(tmp_path: Path) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path})
    config = StorageConfig.from_settings(settings)
    assert config.backend == "local"
    assert config.local_root == (tmp_path / "files").resolve()
    storage = build_storage(config)
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "files").resolve()


def test_s3_settings_build_working_storage(tmp_path: Path, moto_endpoint: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="falflow-config-test")
    settings = _S3Settings.model_validate({
        "data_dir": tmp_path,
        "s3_bucket": "falflow-config-test",
        "s3_endpoint_url": moto_endpoint,
        "s3_prefix": "media",
    })
    config = StorageConfig.from_settings(settings)
    assert config.s3 is not None
    assert "secret-value-for-tests" not in repr(config)
    storage = build_storage(config)
    assert isinstance(storage, S3Storage)
    storage.put("owner/file.txt", b"hello", "text/plain")
    assert storage.get("owner/file.txt") == b"hello"
    listed = storage.client.list_objects_v2(Bucket="falflow-config-test")["Contents"]
    assert [item["Key"] for item in listed] == ["media/owner/file.txt"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"storage_backend": "ftp"}, "FALFLOW_STORAGE_BACKEND"),
        ({"s3_bucket": None}, "FALFLOW_S3_BUCKET"),
        ({"s3_bucket": "b", "s3_addressing_style": "sideways"}, "FALFLOW_S3_ADDRESSING_STYLE"),
    ],
)
def test_bad_storage_settings_rejected(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    settings = _S3Settings.model_validate({"data_dir": tmp_path, **overrides})
    with pytest.raises(ConfigurationError, match=message):
        StorageConfig.from_settings(settings)
