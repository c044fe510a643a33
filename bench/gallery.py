"""Figure: the gallery's first page (`GET /api/assets`) for an account with 10,000 assets.

The asset rows are inserted straight into the API server's SQLite database (no files, since
listing reads rows only), then the page is fetched over loopback HTTP one request at a time.
The loopback time includes the client's share, so it is an upper bound of the server time.
The query plan is checked for the gallery index on (owner_id, created_at, id).
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, insert

# Importing every table lets SQLAlchemy resolve the asset table's foreign keys.
import falflow.models  # noqa: F401
from bench.api_client import sign_up
from bench.processes import StandinProcess, api_server, app_environment
from bench.profiles import Profile
from bench.results import FigureResult, Metric
from bench.stats import Summary
from falflow.assets import service as assets
from falflow.assets.models import Asset
from falflow.kit.db import Database

KEY = "gallery"
MAX_FIRST_PAGE_MS = 300.0
GALLERY_INDEX = "ix_asset_owner_created"
INSERT_BATCH = 2000
WARM_UP_REQUESTS = 3


def _asset_rows(owner_id: uuid.UUID, count: int) -> list[dict[str, Any]]:
    newest = datetime.datetime.now(datetime.UTC)
    rows = []
    for index in range(count):
        digest = hashlib.sha256(f"bench-asset-{owner_id}-{index}".encode()).hexdigest()
        rows.append({
            "id": uuid.uuid4(), "owner_id": owner_id, "kind": "image", "mime_type": "image/png", "size_bytes": 1024,
            "sha256": digest, "width": 256, "height": 256, "storage_key": f"bench/{digest}.png",
            "created_at": newest - datetime.timedelta(seconds=index), "item_index": 0,
            "endpoint_id": "fal-ai/flux/schnell", "params": {"seed": index}, "seed": index, "cost_credits": 3,
            "prompt": f"benchmark asset {index}", "parent_asset_ids": [], "sandbox": True, "favourite": index % 10 == 0,
        })
    return rows


def seed_assets(database: Database, owner_id: uuid.UUID, count: int) -> None:
    rows = _asset_rows(owner_id, count)
    for start in range(0, count, INSERT_BATCH):
        with database.write_session() as session:
            session.execute(insert(Asset), rows[start:start + INSERT_BATCH])


def first_page_plan(database: Database, owner_id: uuid.UUID, page_size: int) -> list[str]:
    """Return SQLite's EXPLAIN QUERY PLAN lines for the exact SQL the gallery service sends."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM asset" in statement:
            captured.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        with database.read_session() as session:
            assets.list_assets(session, owner_id, limit=page_size)
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    statement, parameters = captured[0]
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    return [str(row[-1]) for row in rows]


async def _time_pages(client: httpx.AsyncClient, headers: dict[str, str], page_size: int,
                      repetitions: int) -> tuple[list[float], list[float]]:
    first: list[float] = []
    second: list[float] = []
    for _ in range(WARM_UP_REQUESTS):
        (await client.get("/api/assets", params={"limit": page_size}, headers=headers)).raise_for_status()
    for _ in range(repetitions):
        started = time.perf_counter()
        response = await client.get("/api/assets", params={"limit": page_size}, headers=headers)
        first.append(time.perf_counter() - started)
        response.raise_for_status()
        body = response.json()
        if len(body["items"]) != page_size:
            raise RuntimeError(f"the first page has {len(body['items'])} assets, expected {page_size}")
        started = time.perf_counter()
        response = await client.get(
            "/api/assets", params={"limit": page_size, "cursor": body["next_cursor"]}, headers=headers
        )
        second.append(time.perf_counter() - started)
        response.raise_for_status()
    return first, second


async def _measure(profile: Profile, workdir: Path, standin: StandinProcess, result: FigureResult) -> None:
    data_dir = workdir / "gallery"
    database_url = f"sqlite:///{(data_dir / 'falflow.sqlite').resolve()}"
    standin.reset()
    env = app_environment(data_dir, fal_url=standin.url, poll_interval=0.1)
    with api_server(env, workdir / "logs" / "gallery-app.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            headers = await sign_up(client)
            owner_id = uuid.UUID((await client.get("/api/me", headers=headers)).json()["id"])
            database = Database(database_url)
            try:
                seeding_started = time.perf_counter()
                await asyncio.to_thread(seed_assets, database, owner_id, profile.gallery_assets)
                seeding = time.perf_counter() - seeding_started
                plan = await asyncio.to_thread(first_page_plan, database, owner_id, profile.gallery_page_size)
            finally:
                database.dispose()
            first, second = await _time_pages(client, headers, profile.gallery_page_size, profile.gallery_repetitions)

    first_summary = Summary.of(first)
    uses_index = any(GALLERY_INDEX in line for line in plan)
    sorts_in_memory = any("TEMP B-TREE" in line for line in plan)
    result.metrics += [
        Metric.checked(f"first page ({profile.gallery_page_size} of {profile.gallery_assets:,} assets), loopback wall",
                       first_summary.describe("ms", scale=1000), f"≤ {MAX_FIRST_PAGE_MS:g} ms",
                       first_summary.median * 1000 <= MAX_FIRST_PAGE_MS),
        Metric("second page (with the cursor), loopback wall", Summary.of(second).describe("ms", scale=1000)),
        Metric.checked("query plan uses the gallery index", "; ".join(plan), f"uses {GALLERY_INDEX}, no temp B-tree",
                       uses_index and not sorts_in_memory),
    ]
    result.method += [
        f"{profile.gallery_assets:,} asset rows for one account inserted with SQLAlchemy Core in batches of "
        f"{INSERT_BATCH} ({seeding:.1f} s), one second apart, every tenth a favourite; no files.",
        f"`GET /api/assets?limit={profile.gallery_page_size}` with a bearer token against "
        f"`python -m falflow.serve_api` (SQLite), {profile.gallery_repetitions} sequential requests after "
        f"{WARM_UP_REQUESTS} warm-up requests. Times are loopback client walls, which include the server time.",
        "The plan is SQLite's EXPLAIN QUERY PLAN of the SQL that `falflow.assets.service.list_assets` sends, "
        "captured with a SQLAlchemy cursor event.",
    ]


def measure(profile: Profile, workdir: Path, standin: StandinProcess) -> FigureResult:
    result = FigureResult(
        key=KEY,
        title=f"Gallery first page with {profile.gallery_assets:,} assets",
        baseline="—",
        target=f"≤ {MAX_FIRST_PAGE_MS:g} ms server time",
    )
    started = time.perf_counter()
    asyncio.run(_measure(profile, workdir, standin, result))
    result.seconds = time.perf_counter() - started
    return result
