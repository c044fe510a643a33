"""Item status writes queued while a transaction runs share the next one (`ItemWrites`).

The writes go to the real database. A spy around `commit_item_writes` records each transaction's
writes and holds the first one open, so that the others queue behind it.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from falflow.context import AppContext
from falflow.kit.db import Database
from falflow.runs import item_writes, repository
from falflow.runs.events import EventDraft
from falflow.runs.item_writes import ItemWrite, ItemWrites
from tests.conftest import sign_up
from tests.runs.conftest import create_workflow, flux_node, start_run, wait_for_run

NODE = "image"


def finished_run(client: TestClient) -> uuid.UUID:
    """Run a one-node flux workflow of a new account to the end; return the run's id."""
    headers = sign_up(client)["headers"]
    document = {"nodes": [flux_node(NODE, prompt="a quiet harbour")], "edges": []}
    run_id = start_run(client, headers, create_workflow(client, headers, document))
    assert wait_for_run(client, headers, run_id)["status"] == "succeeded"
    return uuid.UUID(run_id)


class HeldTransactions:
    """Records each shared transaction's writes; the first one waits for `release`."""

    def __init__(self) -> None:
        self.batches: list[list[ItemWrite]] = []
        self.first_started = threading.Event()
        self._release = threading.Event()
        self._commit = item_writes.commit_item_writes

    def __call__(self, database: Database, writes: list[ItemWrite]) -> None:
        self.batches.append(list(writes))
        if len(self.batches) == 1:
            self.first_started.set()
            assert self._release.wait(30), "the test never released the first transaction"
        self._commit(database, writes)

    def release(self) -> None:
        self._release.set()


def progress_write(run_id: uuid.UUID, progress: float, event: str, **changes: Any) -> ItemWrite:
    return ItemWrite(run_id, NODE, 0, [EventDraft(event, data={"progress": progress})], {"progress": progress, **changes})


async def queue_behind_first(queue: ItemWrites, transactions: HeldTransactions, first: ItemWrite, rest: list[ItemWrite]) -> list[Any]:
    """Start `first`, queue `rest` while its transaction is kept open, then let everything commit."""
    lone = asyncio.create_task(queue.write(first))
    assert await asyncio.to_thread(transactions.first_started.wait, 30)
    queued = [asyncio.create_task(queue.write(write)) for write in rest]
    await asyncio.sleep(0)  # every queued write is now waiting for its turn
    transactions.release()
    return await asyncio.gather(lone, *queued, return_exceptions=True)


def stored(database: Database, run_id: uuid.UUID, after: int) -> tuple[float | None, list[tuple[int, str]]]:
    with database.read_session() as session:
        item = repository.get_item(session, run_id, NODE, 0)
        assert item is not None
        events = repository.events_after(session, run_id, after, 50)
    return item.progress, [(event.seq, event.type) for event in events]


def event_counter(database: Database, run_id: uuid.UUID) -> int:
    with database.read_session() as session:
        run = repository.get_run(session, run_id)
        assert run is not None
        return run.event_seq


@pytest.mark.asyncio
async def test_item_writes_queued_share_a_transaction(
    engine_client: TestClient, engine_env: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_run, second_run = finished_run(engine_client), finished_run(engine_client)
    first_seq, second_seq = event_counter(engine_env.database, first_run), event_counter(engine_env.database, second_run)
    transactions = HeldTransactions()
    monkeypatch.setattr(item_writes, "commit_item_writes", transactions)

    outcomes = await queue_behind_first(ItemWrites(engine_env.database), transactions, progress_write(first_run, 0.1, "test.a"), [
        progress_write(second_run, 0.5, "test.b"),
        progress_write(first_run, 0.6, "test.c"),
        progress_write(first_run, 0.9, "test.d"),
    ])

    assert outcomes == [None, None, None, None]
    assert [len(batch) for batch in transactions.batches] == [1, 3]
    # Writes of one item keep their order: the last progress wins, events are numbered in sequence.
    assert stored(engine_env.database, first_run, first_seq) == (
        0.9, [(first_seq + 1, "test.a"), (first_seq + 2, "test.c"), (first_seq + 3, "test.d")],
    )
    assert stored(engine_env.database, second_run, second_seq) == (0.5, [(second_seq + 1, "test.b")])


@pytest.mark.asyncio
async def test_item_writes_bad_write_fails_alone(
    engine_client: TestClient, engine_env: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = finished_run(engine_client)
    seq = event_counter(engine_env.database, run_id)
    transactions = HeldTransactions()
    monkeypatch.setattr(item_writes, "commit_item_writes", transactions)

    outcomes = await queue_behind_first(ItemWrites(engine_env.database), transactions, progress_write(run_id, 0.1, "test.a"), [
        progress_write(run_id, 0.4, "test.b"),
        progress_write(run_id, 0.5, "test.bad", no_such_column=1),
        progress_write(run_id, 0.7, "test.c"),
    ])

    assert outcomes[:2] == [None, None]
    assert outcomes[3] is None
    assert "no_such_column" in str(outcomes[2])
    # The shared transaction failed as a whole, then each write was tried alone.
    assert [len(batch) for batch in transactions.batches] == [1, 3, 1, 1, 1]
    assert stored(engine_env.database, run_id, seq) == (
        0.7, [(seq + 1, "test.a"), (seq + 2, "test.b"), (seq + 3, "test.c")],
    )
