"""The run event log and the in-process fan-out that wakes live listeners.

An event is written to `run_event` with the next per-run sequence number inside the caller's
transaction. After the commit, `RunEventBus.notify(run_id)` wakes every listener of the run
in this process (SSE streams, the Reflex pages); listeners then read the log from their last
sequence number, so a missed wake-up only delays them until their next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from falflow.kit.timeutil import utcnow
from falflow.runs import repository
from falflow.runs.models import RunEvent


@dataclass
class EventDraft:
    type: str
    node_id: str | None = None
    item_index: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def append_events(session: Session, run_id: uuid.UUID, drafts: list[EventDraft]) -> None:
    """Store `drafts` as the run's next events, numbered without gaps.

    The rows go in through one Core statement instead of ORM objects, because building a SQLModel
    instance per event cost more than the insert. Nothing reads them back in the same transaction.
    """
    if not drafts:
        return
    last = repository.reserve_event_numbers(session, run_id, len(drafts))
    first = last - len(drafts) + 1
    now = utcnow()
    session.execute(insert(RunEvent.__table__), [
        {"run_id": run_id, "seq": first + offset, "type": d.type, "node_id": d.node_id, "item_index": d.item_index,
         "data": d.data, "created_at": now}
        for offset, d in enumerate(drafts)
    ])


def event_to_dict(event: RunEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "type": event.type,
        "node_id": event.node_id,
        "item_index": event.item_index,
        "data": event.data,
        "at": event.created_at.isoformat(),
    }


class RunEventBus:
    """Wakes listeners of a run; `notify` is safe to call from any thread or event loop.

    A listener keeps one registration for its whole life and clears the event before each
    read of the log, so a notification that lands between its read and its wait is kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[uuid.UUID, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)
        self._observers: list[Callable[[uuid.UUID], None]] = []

    def add_observer(self, observer: Callable[[uuid.UUID], None]) -> None:
        """Also call `observer` on every notification (the Redis relay publishes with it)."""
        self._observers.append(observer)

    def remove_observer(self, observer: Callable[[uuid.UUID], None]) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def notify(self, run_id: uuid.UUID) -> None:
        self.notify_local(run_id)
        for observer in list(self._observers):
            observer(run_id)

    def notify_local(self, run_id: uuid.UUID) -> None:
        with self._lock:
            waiters = list(self._waiters.get(run_id, ()))
        for loop, event in waiters:
            if loop.is_closed():
                continue
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                continue

    @contextlib.contextmanager
    def listen(self, run_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """Register an event that is set whenever the run has news (call inside a loop)."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters[run_id].add(entry)
        try:
            yield event
        finally:
            with self._lock:
                waiters = self._waiters.get(run_id)
                if waiters is not None:
                    waiters.discard(entry)
                    if not waiters:
                        self._waiters.pop(run_id, None)


async def wait_for_news(event: asyncio.Event, timeout: float) -> bool:
    """Wait until `event` is set or `timeout` seconds pass; True when it was set."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
        return True
    except TimeoutError:
        return False


event_bus = RunEventBus()
