"""Thumbnails reserved when a run output is stored and rendered later: the queue and the route."""

from __future__ import annotations

import io
import uuid
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from falflow.assets import service
from falflow.assets.models import Asset
from falflow.assets.storage import AssetStorage
from falflow.assets.thumbnail_queue import ThumbnailQueue
from falflow.context import AppContext
from tests.assets import samples
from tests.assets.conftest import owner_id_of


def store_deferred(app_env: AppContext, storage: AssetStorage, owner: uuid.UUID, data: bytes) -> Asset:
    prepared = service.prepare_file(
        app_env.database.read_session, storage, owner_id=owner, data=data, content_type="image/png",
        defer_thumbnail=True,
    )
    with app_env.database.write_session() as session:
        return service.store_asset(
            session, storage, owner_id=owner, data=data, content_type="image/png", workflow_id=None, run_id=None,
            node_id="n1", endpoint_id="fal-ai/flux/schnell", params={}, seed=1, cost_credits=0, parent_asset_ids=[],
            prompt=None, source_url=None, sandbox=True, prepared=prepared,
        )


def stored_thumbnail_key(app_env: AppContext, asset: Asset) -> str | None:
    with app_env.database.read_session() as session:
        return service.get_asset_for_owner(session, asset.owner_id, asset.id).thumbnail_key


def render_on_queue(app_env: AppContext, storage: AssetStorage, asset: Asset) -> None:
    assert asset.thumbnail_key is not None
    queue = ThumbnailQueue(app_env.database, storage)
    try:
        queue.submit(storage_key=asset.storage_key, thumbnail_key=asset.thumbnail_key)
        queue.wait_idle()
    finally:
        queue.stop()


def test_deferred_thumbnail_key_reserved(app_env: AppContext, app_storage: AssetStorage, owner: uuid.UUID) -> None:
    asset = store_deferred(app_env, app_storage, owner, samples.image_bytes(800, 400))

    assert asset.thumbnail_key is not None
    assert not app_storage.exists(asset.thumbnail_key)
    assert app_storage.exists(asset.storage_key)


def test_thumbnail_queue_renders_webp(app_env: AppContext, app_storage: AssetStorage, owner: uuid.UUID) -> None:
    asset = store_deferred(app_env, app_storage, owner, samples.image_bytes(800, 400))

    render_on_queue(app_env, app_storage, asset)

    assert asset.thumbnail_key is not None
    with Image.open(io.BytesIO(app_storage.get(asset.thumbnail_key))) as image:
        assert image.format == "WEBP"
        assert image.size == (384, 192)


def test_thumbnail_queue_clears_undecodable(app_env: AppContext, app_storage: AssetStorage, owner: uuid.UUID) -> None:
    """A header that claims 64 x 64 pixels and no pixel data: the key is reserved, then cleared."""
    asset = store_deferred(app_env, app_storage, owner, samples.png_header_only(64, 64))
    assert asset.thumbnail_key is not None

    render_on_queue(app_env, app_storage, asset)

    assert stored_thumbnail_key(app_env, asset) is None
    assert not app_storage.exists(asset.thumbnail_key)


def test_thumbnail_route_renders_missing(
    client: TestClient, user: dict[str, Any], app_env: AppContext, app_storage: AssetStorage
) -> None:
    asset = store_deferred(app_env, app_storage, owner_id_of(user), samples.image_bytes(500, 500))

    response = client.get(f"/api/assets/{asset.id}/thumbnail", headers=user["headers"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert asset.thumbnail_key is not None
    assert app_storage.get(asset.thumbnail_key) == response.content


def test_thumbnail_route_undecodable_is_404(
    client: TestClient, user: dict[str, Any], app_env: AppContext, app_storage: AssetStorage
) -> None:
    asset = store_deferred(app_env, app_storage, owner_id_of(user), samples.png_header_only(64, 64))

    response = client.get(f"/api/assets/{asset.id}/thumbnail", headers=user["headers"])
    listed = client.get("/api/assets", headers=user["headers"]).json()["items"]

    assert response.status_code == 404
    assert "has no thumbnail" in response.json()["detail"]
    assert stored_thumbnail_key(app_env, asset) is None
    assert [item["thumbnail_url"] for item in listed] == [None]


def test_thumbnail_route_missing_source_keeps_key(
    client: TestClient, user: dict[str, Any], app_env: AppContext, app_storage: AssetStorage
) -> None:
    """A source file that is missing (for now) gets the file route's error; the reserved key stays."""
    asset = store_deferred(app_env, app_storage, owner_id_of(user), samples.image_bytes(120, 80))
    app_storage.delete(asset.storage_key)

    response = client.get(f"/api/assets/{asset.id}/thumbnail", headers=user["headers"])

    assert response.status_code == 404
    assert "stored file" in response.json()["detail"]
    assert stored_thumbnail_key(app_env, asset) == asset.thumbnail_key


def test_thumbnail_queue_stopped_leaves_route(app_env: AppContext, app_storage: AssetStorage, owner: uuid.UUID) -> None:
    """A thumbnail queued after `stop` is left for the route, without an error for the caller."""
    asset = store_deferred(app_env, app_storage, owner, samples.image_bytes(120, 80))
    assert asset.thumbnail_key is not None
    queue = ThumbnailQueue(app_env.database, app_storage)
    queue.stop()

    queue.submit(storage_key=asset.storage_key, thumbnail_key=asset.thumbnail_key)

    assert not app_storage.exists(asset.thumbnail_key)
    assert stored_thumbnail_key(app_env, asset) == asset.thumbnail_key
