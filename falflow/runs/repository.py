"""SQL for runs; every owner-facing query is scoped to the owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from falflow.kit.timeutil import utcnow
from falflow.runs.models import NodeCacheEntry, Run, RunEvent, RunNode, RunNodeItem


# The engine runs these reads several times per node, so they are built once: building a
# statement costs about as much as running it on SQLite. Values go in as bound parameters.
_RUN_BY_ID = select(Run).where(Run.id == bindparam("run_id")).execution_options(populate_existing=True)
_LOCKED_RUN = _RUN_BY_ID.with_for_update()
_NODES_OF_RUN = (
    select(RunNode).where(RunNode.run_id == bindparam("run_id")).order_by(col(RunNode.id))
    .execution_options(populate_existing=True)
)
_NODE = (
    select(RunNode).where(RunNode.run_id == bindparam("run_id"), RunNode.node_id == bindparam("node_id"))
    .execution_options(populate_existing=True)
)
_ITEMS_OF_RUN = (
    select(RunNodeItem).where(RunNodeItem.run_id == bindparam("run_id"))
    .order_by(col(RunNodeItem.node_id), col(RunNodeItem.item_index))
    .execution_options(populate_existing=True)
)
_ITEM = (
    select(RunNodeItem)
    .where(RunNodeItem.run_id == bindparam("run_id"), RunNodeItem.node_id == bindparam("node_id"),
           RunNodeItem.item_index == bindparam("item_index"))
    .execution_options(populate_existing=True)
)
_RUNS = Run.__table__.c  # type: ignore[attr-defined]
_RESERVE_EVENTS = (
    update(Run.__table__).where(_RUNS.id == bindparam("run_id"))
    .values(event_seq=_RUNS.event_seq + bindparam("added")).returning(_RUNS.event_seq)
)
_NODE_OUTPUTS = select(RunNode.__table__.c.outputs).where(RunNode.__table__.c.run_id == bindparam("run_id"))  # type: ignore[attr-defined]


def add(session: Session, row: Any) -> None:
    session.add(row)
    session.flush()


def insert_nodes(session: Session, run_id: uuid.UUID, nodes: list[dict[str, Any]]) -> None:
    """Insert a new run's nodes with one Core statement; every dict sets the same columns."""
    if nodes:
        session.execute(insert(RunNode.__table__), [{"run_id": run_id, "cost_credits": 0, **node} for node in nodes])


def get_run(session: Session, run_id: uuid.UUID) -> Run | None:
    return session.execute(_RUN_BY_ID, {"run_id": run_id}).scalars().first()


def get_run_for_owner(session: Session, run_id: uuid.UUID, owner_id: uuid.UUID) -> Run | None:
    return session.exec(select(Run).where(Run.id == run_id, Run.owner_id == owner_id)).first()


def lock_run(session: Session, run_id: uuid.UUID) -> Run | None:
    """Fetch the run with a row lock (PostgreSQL); SQLite's IMMEDIATE transaction locks already."""
    return session.execute(_LOCKED_RUN, {"run_id": run_id}).scalars().first()


def get_run_by_request_key(session: Session, owner_id: uuid.UUID, request_key: str) -> Run | None:
    return session.exec(select(Run).where(Run.owner_id == owner_id, Run.request_key == request_key)).first()


def list_runs(
    session: Session, owner_id: uuid.UUID, *, workflow_id: uuid.UUID | None, limit: int, offset: int
) -> list[Run]:
    statement = select(Run).where(Run.owner_id == owner_id)
    if workflow_id is not None:
        statement = statement.where(Run.workflow_id == workflow_id)
    statement = statement.order_by(col(Run.created_at).desc(), col(Run.id)).limit(limit).offset(offset)
    return list(session.exec(statement))


def list_runs_with_status(session: Session, statuses: Sequence[str]) -> list[Run]:
    return list(session.exec(select(Run).where(col(Run.status).in_(list(statuses)))))


def nodes_of(session: Session, run_id: uuid.UUID) -> list[RunNode]:
    return list(session.execute(_NODES_OF_RUN, {"run_id": run_id}).scalars())


def node_outputs_of(session: Session, run_id: uuid.UUID) -> list[dict[str, Any] | None]:
    """Return the outputs of the run's nodes as plain values, without loading the nodes."""
    return list(session.execute(_NODE_OUTPUTS, {"run_id": run_id}).scalars())


def items_of(session: Session, run_id: uuid.UUID) -> list[RunNodeItem]:
    return list(session.execute(_ITEMS_OF_RUN, {"run_id": run_id}).scalars())


def get_item(session: Session, run_id: uuid.UUID, node_id: str, item_index: int) -> RunNodeItem | None:
    return session.execute(_ITEM, {"run_id": run_id, "node_id": node_id, "item_index": item_index}).scalars().first()


def update_item(session: Session, run_id: uuid.UUID, node_id: str, item_index: int, values: dict[str, Any]) -> None:
    """Set columns of one item with a Core UPDATE; an item loaded in the session is not refreshed."""
    items = RunNodeItem.__table__.c  # type: ignore[attr-defined]
    session.execute(
        update(RunNodeItem.__table__)
        .where(items.run_id == run_id, items.node_id == node_id, items.item_index == item_index)
        .values(**values)
    )


def release_unsent_items(
    session: Session, run_id: uuid.UUID, items: list[tuple[str, int, str]], *, to_owner: str
) -> None:
    """Hand each (node id, item index, owner) item to `to_owner`, if it is still queued, unsent and that owner's."""
    columns = RunNodeItem.__table__.c  # type: ignore[attr-defined]
    for node_id, item_index, owner in items:
        session.execute(
            update(RunNodeItem.__table__)
            .where(columns.run_id == run_id, columns.node_id == node_id, columns.item_index == item_index,
                   columns.dispatched_by == owner, columns.status == "queued", columns.fal_request_id.is_(None))
            .values(dispatched_by=to_owner)
        )


def get_node(session: Session, run_id: uuid.UUID, node_id: str) -> RunNode | None:
    return session.execute(_NODE, {"run_id": run_id, "node_id": node_id}).scalars().first()


def reserve_event_numbers(session: Session, run_id: uuid.UUID, count: int) -> int:
    """Advance the run's event counter by `count`; return the last number reserved.

    A Core UPDATE skips the ORM's bulk-update bookkeeping, the costliest part of appending
    events. A `Run` loaded in this session gets the new counter without being marked changed.
    """
    session.flush()  # A new run row may still be pending, and the UPDATE needs it.
    last = session.connection().execute(_RESERVE_EVENTS, {"run_id": run_id, "added": count}).scalar_one()
    loaded = session.identity_map.get(identity_key(Run, run_id))
    if loaded is not None:
        set_committed_value(loaded, "event_seq", last)
    return last


def events_after(session: Session, run_id: uuid.UUID, after: int, limit: int) -> list[RunEvent]:
    statement = (
        select(RunEvent).where(RunEvent.run_id == run_id, RunEvent.seq > after).order_by(col(RunEvent.seq)).limit(limit)
    )
    return list(session.exec(statement))


def add_cache_entry(session: Session, **values: Any) -> None:
    """Remember a node's outputs under its cache key, unless the owner already has an entry for it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(NodeCacheEntry.__table__).values(created_at=utcnow(), **values).on_conflict_do_nothing()
    )


def get_cache_entry(session: Session, owner_id: uuid.UUID, cache_key: str) -> NodeCacheEntry | None:
    return session.get(NodeCacheEntry, (owner_id, cache_key))


def latest_done_node(session: Session, workflow_id: uuid.UUID, owner_id: uuid.UUID, node_id: str) -> RunNode | None:
    """Return the newest finished execution of `node_id` in any run of the workflow."""
    statement = (
        select(RunNode)
        .join(Run, col(Run.id) == col(RunNode.run_id))
        .where(
            Run.workflow_id == workflow_id,
            Run.owner_id == owner_id,
            RunNode.node_id == node_id,
            col(RunNode.status).in_(["succeeded", "reused"]),
        )
        .order_by(col(RunNode.finished_at).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def count_runs(session: Session, owner_id: uuid.UUID) -> int:
    return session.execute(select(func.count()).select_from(Run).where(Run.owner_id == owner_id)).scalar_one()
