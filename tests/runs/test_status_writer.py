"""The item status writer batches changes that arrive during a write and keeps their order.

The database write is replaced by a recording stand-in with a fixed delay: these tests check the
batching logic only. The engine tests cover the real writes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from falflow.runs import executor
from falflow.runs.events import EventDraft


class RecordedWrites:
    def __init__(self, delay: float, fail_on: int | None = None) -> None:
        self.delay = delay
        self.fail_on = fail_on
        self.batches: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, _services: Any, _ctx: Any, drafts: list[EventDraft], changes: dict[str, Any]) -> None:
        time.sleep(self.delay)
        if self.fail_on is not None and len(self.batches) == self.fail_on:
            raise RuntimeError("database is locked")
        self.batches.append(([draft.data["message"] for draft in drafts], dict(changes)))


def log(message: str) -> list[EventDraft]:
    return [EventDraft("item.log", data={"message": message})]


@pytest.mark.asyncio
async def test_changes_during_a_write_share_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    writes = RecordedWrites(delay=0.1)
    monkeypatch.setattr(executor, "_write", writes)
    writer = executor._StatusWriter(services=None, ctx=None)  # type: ignore[arg-type]

    writer.add(log("step 1/4"), {"status": "running"})
    await asyncio.sleep(0.02)  # the first write is now in progress
    writer.add(log("step 2/4"), {"progress": 0.5})
    writer.add(log("step 3/4"), {"progress": 0.75})
    writer.add(log("step 4/4"), {"progress": 1.0})
    await writer.flush()

    assert writes.batches == [
        (["step 1/4"], {"status": "running"}),
        (["step 2/4", "step 3/4", "step 4/4"], {"progress": 1.0}),
    ]


@pytest.mark.asyncio
async def test_flush_raises_a_failed_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "_write", RecordedWrites(delay=0, fail_on=0))
    writer = executor._StatusWriter(services=None, ctx=None)  # type: ignore[arg-type]

    writer.add(log("step 1/2"), {})
    with pytest.raises(RuntimeError, match="database is locked"):
        await writer.flush()


@pytest.mark.asyncio
async def test_empty_change_starts_no_write(monkeypatch: pytest.MonkeyPatch) -> None:
    writes = RecordedWrites(delay=0)
    monkeypatch.setattr(executor, "_write", writes)
    writer = executor._StatusWriter(services=None, ctx=None)  # type: ignore[arg-type]

    writer.add([], {})
    await writer.flush()

    assert writes.batches == []


@pytest.mark.asyncio
async def test_failed_write_is_not_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changes added after a failed write do not hide the failure from `flush`."""
    writes = RecordedWrites(delay=0, fail_on=0)
    monkeypatch.setattr(executor, "_write", writes)
    writer = executor._StatusWriter(services=None, ctx=None)  # type: ignore[arg-type]

    writer.add(log("step 1/2"), {"status": "running"})
    await asyncio.sleep(0.05)  # the first write has failed by now
    writer.add(log("step 2/2"), {})
    with pytest.raises(RuntimeError, match="database is locked"):
        await writer.flush()
    assert writes.batches == []


@pytest.mark.asyncio
async def test_cancelled_flush_leaves_the_write_running(monkeypatch: pytest.MonkeyPatch) -> None:
    writes = RecordedWrites(delay=0.2)
    monkeypatch.setattr(executor, "_write", writes)
    writer = executor._StatusWriter(services=None, ctx=None)  # type: ignore[arg-type]
    writer.add(log("step 1/1"), {"progress": 1.0})

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await writer.flush()
    await writer.settle()

    assert writes.batches == [(["step 1/1"], {"progress": 1.0})]
