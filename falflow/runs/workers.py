"""Liveness of run workers: heartbeats, and recovery of a dead worker's workflows by its peers.

Each worker writes a heartbeat every `HEARTBEAT_SECONDS`. A worker that finds a peer silent for
longer than `DEAD_AFTER_SECONDS` deletes the peer's row (a guarded DELETE, so exactly one
survivor wins) and has the engine re-enqueue the peer's unfinished workflows; any worker
then dequeues them. Item execution is idempotent, so a recovered item re-attaches to its fal
request instead of submitting it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from falflow.context import AppContext
from falflow.kit.timeutil import utcnow
from falflow.runs.models import RunWorker

logger = logging.getLogger("falflow.runs.workers")

HEARTBEAT_SECONDS = 2.0
DEAD_AFTER_SECONDS = 10.0


def register_worker(context: AppContext, executor_id: str) -> None:
    with context.database.write_session() as session:
        row = session.get(RunWorker, executor_id)
        if row is None:
            session.add(RunWorker(executor_id=executor_id, host=socket.gethostname()[:200], pid=os.getpid()))
        else:
            row.pid = os.getpid()
            row.heartbeat_at = utcnow()
            session.add(row)


def beat(context: AppContext, executor_id: str) -> None:
    with context.database.write_session() as session:
        row = session.get(RunWorker, executor_id)
        if row is None:
            session.add(RunWorker(executor_id=executor_id, host=socket.gethostname()[:200], pid=os.getpid()))
        else:
            row.heartbeat_at = utcnow()
            session.add(row)


def claim_dead_workers(context: AppContext, executor_id: str) -> list[str]:
    """Remove and return the peers whose heartbeat is older than DEAD_AFTER_SECONDS."""
    cutoff = utcnow() - timedelta(seconds=DEAD_AFTER_SECONDS)
    claimed: list[str] = []
    with context.database.write_session() as session:
        stale = session.exec(
            select(RunWorker.executor_id).where(col(RunWorker.heartbeat_at) < cutoff, RunWorker.executor_id != executor_id)
        ).all()
        for dead in stale:
            result = session.execute(
                delete(RunWorker).where(col(RunWorker.executor_id) == dead, col(RunWorker.heartbeat_at) < cutoff)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(dead)
    return claimed


def unregister_worker(context: AppContext, executor_id: str) -> None:
    with context.database.write_session() as session:
        session.execute(delete(RunWorker).where(col(RunWorker.executor_id) == executor_id))


async def watch_peers(context: AppContext, executor_id: str, recover: object) -> None:
    """Heartbeat forever; hand every dead peer's executor id to `recover` (an async callable)."""
    while True:
        try:
            await asyncio.to_thread(beat, context, executor_id)
            for dead in await asyncio.to_thread(claim_dead_workers, context, executor_id):
                logger.warning("worker.peer_dead", extra={"executor_id": executor_id, "dead_executor_id": dead})
                await recover(dead)  # type: ignore[operator]
        except Exception:  # noqa: BLE001 - a failed beat is retried on the next tick
            logger.exception("worker.heartbeat_failed", extra={"executor_id": executor_id})
        await asyncio.sleep(HEARTBEAT_SECONDS)
