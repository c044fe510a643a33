"""Group commit of item changes: the status writes of concurrent items share transactions.

Every fal item writes a few small changes while it runs: the request id after its submit, then
`running`, log lines and progress. With hundreds of items in flight, one transaction per change
made SQLite's single writer the engine's bottleneck. `ItemWrites` queues these changes per event
loop and commits everything queued in one transaction; changes that arrive while it runs go into
the next one. A write that finds the queue idle starts at once, so a lone item waits for no timer.

Callers wait until their change is committed, so a written request id is as durable as before.
When a shared transaction fails, each of its changes is tried again alone, so that one bad
change fails only its own writer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from falflow.kit.db import Database
from falflow.runs import repository
from falflow.runs.events import EventDraft, append_events, event_bus

logger = logging.getLogger("falflow.runs")


@dataclass
class ItemWrite:
    """Column changes of one item and the events that describe them."""

    run_id: uuid.UUID
    node_id: str
    item_index: int
    drafts: list[EventDraft] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)


def commit_item_writes(database: Database, writes: list[ItemWrite]) -> None:
    """Store `writes` in one transaction, in their order, then wake each run's listeners.

    Run rows (their event counters) are updated first, in a fixed order, and item rows after. The
    planner and the success transaction lock rows in that order too, so PostgreSQL sees no deadlock.
    """
    drafts_by_run: dict[uuid.UUID, list[EventDraft]] = defaultdict(list)
    for write in writes:
        for draft in write.drafts:
            draft.node_id = write.node_id
            draft.item_index = write.item_index
        drafts_by_run[write.run_id].extend(write.drafts)
    with database.write_session() as session:
        for run_id in sorted(drafts_by_run, key=str):
            append_events(session, run_id, drafts_by_run[run_id])
        for write in writes:
            if write.changes:
                repository.update_item(session, write.run_id, write.node_id, write.item_index, write.changes)
    for run_id in {write.run_id for write in writes}:
        event_bus.notify(run_id)


class ItemWrites:
    """The queue of one event loop; `write` returns once the change is committed."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._queued: list[tuple[ItemWrite, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def write(self, write: ItemWrite) -> None:
        """Commit `write`, together with whatever else is queued when its turn comes.

        A caller cancelled while it waits does not withdraw the change: it may already be in the
        transaction that is running.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((write, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queued())
        await future

    async def _commit_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                errors = await asyncio.to_thread(self._commit, [write for write, _ in batch])
            except BaseException as exc:
                # Cancelled while the thread ran (the loop is closing): the outcome is unknown.
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("item write cancelled"))
                raise
            for (_, future), error in zip(batch, errors, strict=True):
                if future.done():
                    continue
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    def _commit(self, writes: list[ItemWrite]) -> list[Exception | None]:
        """Commit `writes` together; if that fails, one by one. Return each write's error or None."""
        try:
            commit_item_writes(self._database, writes)
            return [None] * len(writes)
        except Exception as exc:  # noqa: BLE001 - every write gets its own outcome below
            if len(writes) == 1:
                return [exc]
            logger.warning("run.item_writes.batch_failed", extra={"writes": len(writes), "error": str(exc)[:300]})
        errors: list[Exception | None] = []
        for write in writes:
            try:
                commit_item_writes(self._database, [write])
                errors.append(None)
            except Exception as exc:  # noqa: BLE001 - reported to this write's caller
                errors.append(exc)
        return errors
