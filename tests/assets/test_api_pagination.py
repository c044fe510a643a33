"""Cursor pagination of GET /api/assets while new assets keep arriving."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.assets.conftest import StoreFn, owner_id_of


def _page(client: TestClient, user: dict[str, Any], cursor: str | None, limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if cursor:
        params["cursor"] = cursor
    response = client.get("/api/assets", params=params, headers=user["headers"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_pages_stable_under_inserts(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    owner = owner_id_of(user)
    existing = {store(owner, f"existing {index}".encode()).id for index in range(23)}

    stop = threading.Event()
    # Ids are appended after their transaction commits.
    committed_by_thread: list[uuid.UUID] = []

    def keep_inserting() -> None:
        for index in range(200):
            if stop.is_set():
                return
            committed_by_thread.append(store(owner, f"concurrent {index}".encode()).id)

    writer = threading.Thread(target=keep_inserting)
    writer.start()
    try:
        committed_before_paging = existing | set(committed_by_thread)
        first = _page(client, user, None, 5)
        committed_by_first_page = existing | set(committed_by_thread)
        later: list[dict[str, Any]] = []
        cursor = first["next_cursor"]
        between = 0
        while cursor:
            store(owner, f"between pages {between}".encode())
            between += 1
            page = _page(client, user, cursor, 5)
            later.extend(page["items"])
            cursor = page["next_cursor"]
    finally:
        stop.set()
        writer.join()

    seen = first["items"] + later
    ids = [uuid.UUID(item["id"]) for item in seen]
    assert between >= 4
    assert len(ids) == len(set(ids)), "an asset was repeated across pages"
    assert committed_before_paging <= set(ids), "an asset that existed before paging began was skipped"
    # Assets committed after the first page sort before it, so later pages never show them.
    assert {uuid.UUID(item["id"]) for item in later} <= committed_by_first_page
    positions = [(datetime.fromisoformat(item["created_at"]), uuid.UUID(item["id"])) for item in seen]
    assert positions == sorted(positions, reverse=True)


def test_cursor_walks_every_asset_once(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    owner = owner_id_of(user)
    created = [store(owner, f"asset {index}".encode()).id for index in range(12)]
    collected: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = _page(client, user, cursor, 5)
        collected.extend(item["id"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert collected == [str(asset_id) for asset_id in reversed(created)]


def test_exact_page_has_no_next_cursor(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    owner = owner_id_of(user)
    for index in range(4):
        store(owner, f"asset {index}".encode())
    page = _page(client, user, None, 4)
    assert len(page["items"]) == 4
    assert page["next_cursor"] is None
