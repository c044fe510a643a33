"""A read-only view of the runs in an API server's SQLite database.

The benchmarks wait for runs here instead of polling the API, so that waiting adds no
requests to the server being measured. SQLite in WAL mode lets this reader run beside the
server's writers without blocking them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")


class RunsStalledError(Exception):
    """Unfinished runs made no progress for too long: the engine stopped working on them."""

    def __init__(self, remaining: int, stall_seconds: float) -> None:
        super().__init__(f"{remaining} run(s) made no progress for {stall_seconds:g} s and were given up on")
        self.remaining = remaining


@dataclass(frozen=True)
class RunTimes:
    run_id: str
    status: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    error: str | None


@dataclass(frozen=True)
class ItemTimes:
    """When the engine picked up one node item, and when it finished it."""

    node_id: str
    fal_request_id: str | None
    dispatched_at: datetime.datetime | None
    finished_at: datetime.datetime | None


def _parse(value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    parsed = datetime.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


class RunStore:
    def __init__(self, database_path: Path) -> None:
        self._path = database_path

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=30)
        try:
            connection.execute("PRAGMA busy_timeout=30000")
            yield connection
        finally:
            connection.close()

    def count_unfinished(self) -> int:
        with self._connect() as connection:
            marks = ",".join("?" for _ in TERMINAL_STATUSES)
            query = f"SELECT count(*) FROM run WHERE status NOT IN ({marks})"
            row = connection.execute(query, TERMINAL_STATUSES).fetchone()
        return int(row[0])

    def runs(self, run_ids: list[str]) -> list[RunTimes]:
        """Return the times of the given runs (ids as returned by the API)."""
        requested = {uuid_text.replace("-", "") for uuid_text in run_ids}
        with self._connect() as connection:
            rows = connection.execute("SELECT id, status, created_at, finished_at, error FROM run").fetchall()
        found = []
        for run_id, status, created_at, finished_at, error in rows:
            if str(run_id).replace("-", "") in requested:
                created = _parse(created_at)
                assert created is not None
                found.append(RunTimes(str(run_id), status, created, _parse(finished_at), error))
        return found

    def items(self, run_id: str) -> list[ItemTimes]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT node_id, fal_request_id, dispatched_at, finished_at, run_id FROM run_node_item"
            ).fetchall()
        target = run_id.replace("-", "")
        return [
            ItemTimes(node_id, request_id, _parse(dispatched_at), _parse(finished_at))
            for node_id, request_id, dispatched_at, finished_at, item_run_id in rows
            if str(item_run_id).replace("-", "") == target
        ]

    def latest_run_id(self) -> str:
        with self._connect() as connection:
            row = connection.execute("SELECT id FROM run ORDER BY created_at DESC LIMIT 1").fetchone()
        if row is None:
            raise LookupError("the database has no run yet")
        return str(row[0])

    def count_events(self) -> int:
        with self._connect() as connection:
            row = connection.execute("SELECT coalesce(max(id), 0) FROM run_event").fetchone()
        return int(row[0])

    async def wait_until_idle(self, timeout: float, *, poll_seconds: float = 0.05, stall_seconds: float = 60.0) -> None:
        """Wait until no run is queued, running or cancelling.

        Raises TimeoutError after `timeout` seconds, and RunsStalledError when no run event was
        written for `stall_seconds` while runs remain unfinished.
        """
        deadline = time.monotonic() + timeout
        last_events = -1
        last_progress = time.monotonic()
        while True:
            remaining = await asyncio.to_thread(self.count_unfinished)
            if remaining == 0:
                return
            now = time.monotonic()
            events = await asyncio.to_thread(self.count_events)
            if events != last_events:
                last_events = events
                last_progress = now
            elif now - last_progress > stall_seconds:
                raise RunsStalledError(remaining, stall_seconds)
            if now > deadline:
                raise TimeoutError(f"{remaining} run(s) were still unfinished after {timeout:g} s")
            await asyncio.sleep(poll_seconds)
