"""Files written ahead of their rows: `prepare_file`, `store_asset(prepared=...)` and `discard_prepared`."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from falflow.assets import service
from falflow.assets.errors import SharedFileGoneError
from falflow.assets.models import Asset
from falflow.assets.storage import AssetStorage
from falflow.context import AppContext
from tests.assets.conftest import StoreFn, stored_files
from tests.assets.samples import image_bytes


def _prepare(app_env: AppContext, storage: AssetStorage, owner: uuid.UUID, data: bytes) -> service.PreparedFile:
    return service.prepare_file(
        app_env.database.read_session, storage, owner_id=owner, data=data, content_type="image/png"
    )


def _store(
    app_env: AppContext, storage: AssetStorage, owner: uuid.UUID, data: bytes, prepared: service.PreparedFile
) -> Asset:
    with app_env.database.write_session() as session:
        return service.store_asset(
            session, storage, owner_id=owner, data=data, content_type="image/png", workflow_id=None, run_id=None,
            node_id="n1", endpoint_id="fal-ai/flux/schnell", params={}, seed=1, cost_credits=0, parent_asset_ids=[],
            prompt=None, source_url=None, sandbox=True, prepared=prepared,
        )


def test_prepared_file_stored_without_rewrite(
    app_env: AppContext, app_storage: AssetStorage, files_root: Path, owner: uuid.UUID
) -> None:
    data = image_bytes(96, 64)
    prepared = _prepare(app_env, app_storage, owner, data)
    written = stored_files(files_root)

    asset = _store(app_env, app_storage, owner, data, prepared)

    assert prepared.written
    assert len(written) == 2  # the file and its thumbnail
    assert stored_files(files_root) == written
    assert (asset.storage_key, asset.thumbnail_key) == (prepared.storage_key, prepared.thumbnail_key)
    assert app_storage.get(asset.storage_key) == data
    assert (asset.width, asset.height, asset.size_bytes) == (96, 64, len(data))


def test_known_bytes_reuse_stored_file(
    app_env: AppContext, app_storage: AssetStorage, files_root: Path, owner: uuid.UUID, store: StoreFn
) -> None:
    data = image_bytes(40, 40)
    first = store(owner, data)
    before = stored_files(files_root)

    prepared = _prepare(app_env, app_storage, owner, data)

    assert not prepared.written
    assert prepared.storage_key == first.storage_key
    assert stored_files(files_root) == before


def test_discard_removes_only_files_it_wrote(
    app_env: AppContext, app_storage: AssetStorage, files_root: Path, owner: uuid.UUID, store: StoreFn
) -> None:
    stored = store(owner, image_bytes(30, 30, color=(1, 2, 3)))
    reused = _prepare(app_env, app_storage, owner, image_bytes(30, 30, color=(1, 2, 3)))
    fresh = _prepare(app_env, app_storage, owner, image_bytes(50, 20, color=(9, 9, 9)))

    service.discard_prepared(app_env.database.read_session, app_storage, [reused, fresh])

    assert app_storage.exists(stored.storage_key)
    assert not app_storage.exists(fresh.storage_key)
    assert fresh.thumbnail_key is not None and not app_storage.exists(fresh.thumbnail_key)
    assert len(stored_files(files_root)) == 2


def test_prepared_file_mismatch_rejected(
    app_env: AppContext, app_storage: AssetStorage, owner: uuid.UUID
) -> None:
    prepared = _prepare(app_env, app_storage, owner, image_bytes(20, 20))

    with pytest.raises(ValueError, match="prepared"):
        _store(app_env, app_storage, owner, image_bytes(200, 20), prepared)


def test_discard_keeps_referenced_file(
    app_env: AppContext, app_storage: AssetStorage, owner: uuid.UUID
) -> None:
    """A commit that failed on the client after the server applied it must not cost the file."""
    data = image_bytes(70, 30)
    prepared = _prepare(app_env, app_storage, owner, data)
    asset = _store(app_env, app_storage, owner, data, prepared)

    service.discard_prepared(app_env.database.read_session, app_storage, [prepared])

    assert app_storage.exists(asset.storage_key)
    assert asset.thumbnail_key is not None
    assert app_storage.exists(asset.thumbnail_key)


def test_shared_file_of_deleted_asset_rejected(
    app_env: AppContext, app_storage: AssetStorage, owner: uuid.UUID, store: StoreFn
) -> None:
    """Bytes prepared to share the file of an asset deleted before the commit raise, so the caller retries."""
    data = image_bytes(33, 33)
    first = store(owner, data)
    prepared = _prepare(app_env, app_storage, owner, data)
    with app_env.database.write_session() as session:
        service.delete_asset(session, owner, first.id)

    with pytest.raises(SharedFileGoneError, match="prepare the file again"):
        _store(app_env, app_storage, owner, data, prepared)
    again = _prepare(app_env, app_storage, owner, data)

    assert not prepared.written
    assert again.written
    assert again.storage_key != first.storage_key
