"""Fixtures of the asset tests: accounts, a store_asset helper and both storage backends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from falflow.accounts.models import User
from falflow.assets import service
from falflow.assets.config import storage_for_settings
from falflow.assets.models import Asset
from falflow.assets.storage import AssetStorage
from falflow.assets.storage_local import LocalStorage
from falflow.assets.storage_s3 import S3Storage
from falflow.context import AppContext

StoreFn = Callable[..., Asset]

_S3_REGION = "us-east-1"
_S3_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def app_storage(app_env: AppContext) -> AssetStorage:
    """The storage the API serves from: local files under the test's data folder."""
    return storage_for_settings(app_env.settings)


@pytest.fixture
def files_root(app_env: AppContext) -> Path:
    return app_env.settings.files_dir


@pytest.fixture
def make_user(app_env: AppContext) -> Callable[[], uuid.UUID]:
    """Insert an account row directly (no API) and return its id."""

    def create() -> uuid.UUID:
        with app_env.database.write_session() as session:
            user = User(email=f"u-{uuid.uuid4().hex[:10]}@example.com", password_hash="not-a-real-hash")
            session.add(user)
            session.flush()
            return user.id

    return create


@pytest.fixture
def owner(make_user: Callable[[], uuid.UUID]) -> uuid.UUID:
    return make_user()


@pytest.fixture
def store(app_env: AppContext, app_storage: AssetStorage) -> StoreFn:
    """Call store_asset in its own committed transaction, with defaults for the provenance."""

    def call(owner_id: uuid.UUID, data: bytes, **overrides: Any) -> Asset:
        arguments: dict[str, Any] = {
            "owner_id": owner_id, "data": data, "content_type": "application/octet-stream", "workflow_id": None,
            "run_id": None, "node_id": "n1", "endpoint_id": "fal-ai/flux/schnell", "params": {"prompt": "a cat"},
            "seed": 7, "cost_credits": 3, "parent_asset_ids": [], "prompt": "a cat", "source_url": None,
            "sandbox": True,
        }
        arguments.update(overrides)
        with app_env.database.write_session() as session:
            return service.store_asset(session, app_storage, **arguments)

    return call


def stored_files(root: Path) -> list[Path]:
    """Every regular file under `root`, temporary ones included."""
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def owner_id_of(account: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(account["user"]["id"])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3 stand-in (moto's server mode) on a port the system picks on 127.0.0.1."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.stop()


@pytest.fixture
def s3_storage(moto_endpoint: str) -> S3Storage:
    """An S3Storage on a fresh bucket of the moto server."""
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name=_S3_REGION, **_S3_CREDENTIALS)
    bucket = f"falflow-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Storage(client, bucket, prefix="assets")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AssetStorage:
    """Each storage backend in turn: local files in a temporary folder, then S3 on moto."""
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    backend: AssetStorage = request.getfixturevalue("s3_storage")
    return backend
