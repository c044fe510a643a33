"""asset_lineage over chains and diamonds, soft deletion, and purging of unreferenced files."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from falflow.assets import service
from falflow.assets.lineage import asset_lineage
from falflow.assets.storage import AssetStorage
from falflow.context import AppContext
from falflow.kit.errors import NotFoundError
from falflow.kit.timeutil import utcnow
from tests.assets import samples
from tests.assets.conftest import StoreFn


def test_lineage_walks_a_diamond(store: StoreFn, owner: uuid.UUID, app_env: AppContext) -> None:
    # root -> left, right -> merged -> final
    root = store(owner, b"root prompt")
    left = store(owner, b"left", parent_asset_ids=[root.id])
    right = store(owner, b"right", parent_asset_ids=[root.id])
    merged = store(owner, b"merged", parent_asset_ids=[left.id, right.id])
    final = store(owner, samples.image_bytes(), parent_asset_ids=[merged.id], seed=99, cost_credits=12)

    with app_env.database.read_session() as session:
        lineage = asset_lineage(session, owner, final.id)
    assert lineage["asset"].id == final.id
    assert (lineage["seed"], lineage["cost_credits"], lineage["endpoint_id"]) == (99, 12, "fal-ai/flux/schnell")
    depths = {entry["asset"].id: entry["depth"] for entry in lineage["ancestors"]}
    assert depths == {merged.id: 1, left.id: 2, right.id: 2, root.id: 3}
    assert len(lineage["ancestors"]) == 4
    assert lineage["truncated"] is False
    assert lineage["children"] == []

    with app_env.database.read_session() as session:
        root_lineage = asset_lineage(session, owner, root.id)
    assert {child.id for child in root_lineage["children"]} == {left.id, right.id}
    assert root_lineage["ancestors"] == []


def test_lineage_depth_limit_truncates(store: StoreFn, owner: uuid.UUID, app_env: AppContext) -> None:
    chain = [store(owner, b"generation 0")]
    for generation in range(1, 5):
        chain.append(store(owner, f"generation {generation}".encode(), parent_asset_ids=[chain[-1].id]))
    with app_env.database.read_session() as session:
        lineage = asset_lineage(session, owner, chain[-1].id, max_depth=2)
    assert [entry["asset"].id for entry in lineage["ancestors"]] == [chain[3].id, chain[2].id]
    assert lineage["truncated"] is True


def test_lineage_keeps_deleted_parent(store: StoreFn, owner: uuid.UUID, app_env: AppContext) -> None:
    parent = store(owner, b"parent")
    child = store(owner, b"child", parent_asset_ids=[parent.id])
    with app_env.database.write_session() as session:
        service.delete_asset(session, owner, parent.id)
    with app_env.database.read_session() as session:
        lineage = asset_lineage(session, owner, child.id)
    assert [entry["asset"].id for entry in lineage["ancestors"]] == [parent.id]
    assert lineage["ancestors"][0]["asset"].deleted_at is not None


def test_lineage_of_foreign_asset_not_found(
    store: StoreFn, owner: uuid.UUID, make_user: Callable[[], uuid.UUID], app_env: AppContext
) -> None:
    asset = store(owner, b"private")
    with app_env.database.read_session() as session, pytest.raises(NotFoundError):
        asset_lineage(session, make_user(), asset.id)


def _purge(app_env: AppContext, storage: AssetStorage, *, grace: timedelta = timedelta(0)) -> service.PurgeReport:
    with app_env.database.write_session() as session:
        return service.purge_deleted_assets(session, storage, utcnow() - grace)


def test_purge_keeps_file_while_shared(
    store: StoreFn, owner: uuid.UUID, app_env: AppContext, app_storage: AssetStorage
) -> None:
    data = samples.image_bytes(120, 90)
    first = store(owner, data)
    second = store(owner, data)
    assert first.thumbnail_key is not None

    with app_env.database.write_session() as session:
        service.delete_asset(session, owner, first.id)
    report = _purge(app_env, app_storage)
    assert report.assets_purged == 1
    assert report.files_deleted == 0
    assert app_storage.exists(first.storage_key)
    assert app_storage.exists(first.thumbnail_key)

    with app_env.database.write_session() as session:
        service.delete_asset(session, owner, second.id)
    report = _purge(app_env, app_storage)
    assert report.assets_purged == 1
    assert report.files_deleted == 2
    assert not app_storage.exists(first.storage_key)
    assert not app_storage.exists(first.thumbnail_key)


def test_purge_keeps_file_for_cache_reuse(
    store: StoreFn, owner: uuid.UUID, app_env: AppContext, app_storage: AssetStorage
) -> None:
    source = store(owner, b"cached output")
    with app_env.database.write_session() as session:
        reused = service.reuse_asset(session, source=source, run_id=uuid.uuid4(), node_id="n1", item_index=0,
                                     workflow_id=None)
        service.delete_asset(session, owner, source.id)
    _purge(app_env, app_storage)
    assert app_storage.exists(reused.storage_key)


def test_purge_waits_for_grace_period(
    store: StoreFn, owner: uuid.UUID, app_env: AppContext, app_storage: AssetStorage
) -> None:
    asset = store(owner, b"recently deleted")
    with app_env.database.write_session() as session:
        service.delete_asset(session, owner, asset.id)
    report = _purge(app_env, app_storage, grace=timedelta(days=7))
    assert report.assets_purged == 0
    assert app_storage.exists(asset.storage_key)


def test_purge_marks_rows_and_is_repeatable(
    store: StoreFn, owner: uuid.UUID, app_env: AppContext, app_storage: AssetStorage
) -> None:
    asset = store(owner, b"to purge")
    with app_env.database.write_session() as session:
        service.delete_asset(session, owner, asset.id)
    assert _purge(app_env, app_storage).files_deleted == 1
    assert _purge(app_env, app_storage).assets_purged == 0
    with app_env.database.read_session() as session:
        row = session.get(type(asset), asset.id)
    assert row is not None
    assert row.purged_at is not None


def test_deleted_asset_not_reused_for_dedupe(
    store: StoreFn, owner: uuid.UUID, app_env: AppContext, app_storage: AssetStorage
) -> None:
    data = b"same bytes after deletion"
    first = store(owner, data)
    with app_env.database.write_session() as session:
        service.delete_asset(session, owner, first.id)
    second = store(owner, data)
    assert second.storage_key != first.storage_key
    _purge(app_env, app_storage)
    assert not app_storage.exists(first.storage_key)
    assert app_storage.get(second.storage_key) == data
