"""store_asset, upload_image and reuse_asset against the real database and local storage."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from falflow.assets import service
from falflow.assets.models import AssetParent
from falflow.assets.storage import AssetStorage
from falflow.context import AppContext
from falflow.kit.errors import InvalidInputError, NotFoundError, UnsupportedMediaTypeError
from tests.assets import samples
from tests.assets.conftest import StoreFn, stored_files


def test_store_image_measures_and_thumbnails(store: StoreFn, owner: uuid.UUID, app_storage: AssetStorage) -> None:
    data = samples.image_bytes(800, 400, fmt="JPEG")
    asset = store(owner, data, kind="image", content_type="image/jpeg")
    assert asset.kind == "image"
    assert asset.mime_type == "image/jpeg"
    assert (asset.width, asset.height) == (800, 400)
    assert asset.size_bytes == len(data)
    assert asset.storage_key.startswith(f"{owner}/")
    assert asset.storage_key.endswith(".jpg")
    assert app_storage.get(asset.storage_key) == data
    assert asset.thumbnail_key is not None
    with Image.open(io.BytesIO(app_storage.get(asset.thumbnail_key))) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.size == (384, 192)


def test_store_video_gets_duration_and_poster(store: StoreFn, owner: uuid.UUID, app_storage: AssetStorage) -> None:
    asset = store(owner, samples.video_bytes(frames=24, fps=12), kind="video", content_type="video/mp4")
    assert asset.mime_type == "video/mp4"
    assert asset.duration_seconds == pytest.approx(2.0, abs=0.1)
    assert asset.thumbnail_key is not None
    with Image.open(io.BytesIO(app_storage.get(asset.thumbnail_key))) as poster:
        assert poster.format == "WEBP"


def test_store_audio_and_text_have_no_thumbnail(store: StoreFn, owner: uuid.UUID) -> None:
    audio = store(owner, samples.wav_bytes(0.5), kind="audio")
    text = store(owner, b"a caption", kind="text")
    assert audio.duration_seconds == pytest.approx(0.5)
    assert audio.thumbnail_key is None
    assert text.mime_type == "text/plain; charset=utf-8"
    assert text.thumbnail_key is None


def test_store_records_provenance(store: StoreFn, owner: uuid.UUID) -> None:
    workflow_id, run_id = uuid.uuid4(), uuid.uuid4()
    asset = store(owner, samples.image_bytes(), workflow_id=workflow_id, run_id=run_id, node_id="gen", item_index=2,
                  seed=123, cost_credits=40, source_url="https://v3.fal.media/files/x.png", sandbox=False)
    assert (asset.workflow_id, asset.run_id, asset.node_id, asset.item_index) == (workflow_id, run_id, "gen", 2)
    assert (asset.seed, asset.cost_credits, asset.sandbox) == (123, 40, False)
    assert asset.endpoint_id == "fal-ai/flux/schnell"
    assert asset.params == {"prompt": "a cat"}
    assert asset.source_url == "https://v3.fal.media/files/x.png"


def test_identical_bytes_share_one_file(
    store: StoreFn, owner: uuid.UUID, make_user: Callable[[], uuid.UUID], files_root: Path
) -> None:
    data = samples.image_bytes(100, 100)
    first = store(owner, data)
    second = store(owner, data, run_id=uuid.uuid4())
    assert second.id != first.id
    assert second.storage_key == first.storage_key
    assert second.thumbnail_key == first.thumbnail_key
    assert second.sha256 == first.sha256
    assert len(stored_files(files_root / str(owner))) == 2  # the file and its thumbnail

    other_owner = make_user()
    third = store(other_owner, data)
    assert third.storage_key != first.storage_key
    assert third.storage_key.startswith(f"{other_owner}/")


def test_reuse_asset_copies_nothing(store: StoreFn, owner: uuid.UUID, app_env: AppContext, files_root: Path) -> None:
    source = store(owner, samples.image_bytes(), cost_credits=25)
    files_before = stored_files(files_root)
    run_id = uuid.uuid4()
    with app_env.database.write_session() as session:
        reused = service.reuse_asset(
            session, source=source, run_id=run_id, node_id="gen", item_index=1, workflow_id=None
        )
    assert stored_files(files_root) == files_before
    assert reused.id != source.id
    assert reused.storage_key == source.storage_key
    assert reused.thumbnail_key == source.thumbnail_key
    assert reused.reused_from_asset_id == source.id
    assert reused.cost_credits == 0
    assert (reused.run_id, reused.item_index, reused.owner_id) == (run_id, 1, owner)


def test_kind_mismatch_rejected(store: StoreFn, owner: uuid.UUID, files_root: Path) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="expected image data"):
        store(owner, samples.HTML_BYTES, kind="image")
    with pytest.raises(InvalidInputError, match="kind 'picture'"):
        store(owner, samples.image_bytes(), kind="picture")
    assert stored_files(files_root) == []


def test_unknown_or_foreign_parent_rejected(
    store: StoreFn, owner: uuid.UUID, make_user: Callable[[], uuid.UUID]
) -> None:
    with pytest.raises(InvalidInputError, match="parent_asset_ids"):
        store(owner, b"text", parent_asset_ids=[uuid.uuid4()])
    foreign = store(make_user(), b"someone else's")
    with pytest.raises(InvalidInputError, match=str(foreign.id)):
        store(owner, b"text", parent_asset_ids=[foreign.id])


def test_parent_links_written(store: StoreFn, owner: uuid.UUID, app_env: AppContext) -> None:
    first = store(owner, b"one")
    second = store(owner, b"two")
    child = store(owner, samples.image_bytes(), parent_asset_ids=[second.id, first.id, second.id])
    assert child.parent_asset_ids == [str(second.id), str(first.id), str(second.id)]
    with app_env.database.read_session() as session:
        links = list(session.exec(select(AssetParent).where(AssetParent.child_id == child.id)))
    assert sorted((link.parent_id, link.position) for link in links) == sorted([(second.id, 0), (first.id, 1)])


def test_upload_image_stores_with_filename(owner: uuid.UUID, app_env: AppContext, app_storage: AssetStorage) -> None:
    with app_env.database.write_session() as session:
        asset = service.upload_image(
            session, app_storage, owner_id=owner, data=samples.image_bytes(), filename="cat.png"
        )
    assert asset.original_filename == "cat.png"
    assert (asset.cost_credits, asset.run_id, asset.sandbox) == (0, None, False)
    assert asset.thumbnail_key is not None


def test_upload_image_rejects_undecodable(owner: uuid.UUID, app_env: AppContext, app_storage: AssetStorage,
                                          files_root: Path) -> None:
    truncated = samples.image_bytes(200, 200, fmt="PNG")[:60]
    with pytest.raises(UnsupportedMediaTypeError), app_env.database.write_session() as session:
        service.upload_image(session, app_storage, owner_id=owner, data=truncated, filename="x.png")
    assert stored_files(files_root) == []


def test_get_asset_for_owner_scoped(
    store: StoreFn, owner: uuid.UUID, make_user: Callable[[], uuid.UUID], app_env: AppContext
) -> None:
    asset = store(owner, b"mine")
    stranger = make_user()
    with app_env.database.read_session() as session:
        assert service.get_asset_for_owner(session, owner, asset.id).id == asset.id
        with pytest.raises(NotFoundError):
            service.get_asset_for_owner(session, stranger, asset.id)
