"""Run tables: runs, their nodes and batch items, the event log and the node cache."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from falflow.kit.timeutil import UTCDateTime, utcnow


class Run(SQLModel, table=True):
    __tablename__ = "run"
    __table_args__ = (
        UniqueConstraint("owner_id", "request_key", name="uq_run_request_key"),
        Index("ix_run_owner_created", "owner_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")
    workflow_id: uuid.UUID = Field(foreign_key="workflow.id", index=True)
    workflow_version: int
    # The exact document that ran, so the run can be reopened as it was.
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=16, index=True)
    mode: str = Field(default="sandbox", max_length=16)
    estimated_credits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    charged_credits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    reservation_id: uuid.UUID | None = Field(default=None)
    # Last event sequence number; events are numbered 1, 2, 3... per run.
    event_seq: int = Field(default=0)
    request_key: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RunNode(SQLModel, table=True):
    """One workflow node within a run; its batch items carry the fal requests."""

    __tablename__ = "run_node"
    __table_args__ = (UniqueConstraint("run_id", "node_id", name="uq_run_node"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    run_id: uuid.UUID = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    node_id: str = Field(max_length=100)
    node_type: str = Field(max_length=200)
    status: str = Field(default="pending", max_length=16)
    batch_count: int | None = Field(default=None)
    # Port name -> value (a list with one entry per batch item when the node ran as a batch).
    outputs: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    cost_credits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    reused_from_run_id: uuid.UUID | None = Field(default=None)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RunNodeItem(SQLModel, table=True):
    """One execution of a node: a fal request (or a utility evaluation) for one batch item."""

    __tablename__ = "run_node_item"
    __table_args__ = (UniqueConstraint("run_id", "node_id", "item_index", name="uq_run_node_item"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    run_id: uuid.UUID = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    node_id: str = Field(max_length=100)
    item_index: int = Field(default=0)
    endpoint_id: str | None = Field(default=None, max_length=200)
    status: str = Field(default="queued", max_length=16)
    # The exact fal arguments, seed included, so the request can be reproduced.
    arguments: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    seed: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    cache_key: str | None = Field(default=None, max_length=64)
    fal_request_id: str | None = Field(default=None, max_length=100, index=True)
    queue_position: int | None = Field(default=None)
    progress: float | None = Field(default=None)
    outputs: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    asset_ids: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    cost_credits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    attempts: int = Field(default=0)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error_code: str | None = Field(default=None, max_length=64)
    # True when fal may bill a request that was cancelled while already running.
    may_be_billed: bool = Field(default=False)
    # The engine workflow that runs the item: `inline:<id>` runs it as its next step, `<id>` starts
    # it as a child workflow. Set by the planner in the transaction that hands the item out.
    dispatched_by: str | None = Field(default=None, max_length=300)
    # Set when the item's executor first loads it.
    dispatched_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RunEvent(SQLModel, table=True):
    """One entry of a run's event log, stored before it is pushed anywhere."""

    __tablename__ = "run_event"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_run_event_seq"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    run_id: uuid.UUID = Field(foreign_key="run.id", ondelete="CASCADE")
    seq: int
    type: str = Field(sa_column=Column(String(40), nullable=False))
    node_id: str | None = Field(default=None, max_length=100)
    item_index: int | None = Field(default=None)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class NodeCacheEntry(SQLModel, table=True):
    """Outputs of a finished fal request, found again by its cache key (per owner)."""

    __tablename__ = "node_cache_entry"

    owner_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    cache_key: str = Field(max_length=64, primary_key=True)
    endpoint_id: str = Field(max_length=200)
    outputs: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    asset_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_run_id: uuid.UUID
    source_node_id: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class RunWorker(SQLModel, table=True):
    """A run worker process; peers recover the engine workflows of one whose heartbeat stopped."""

    __tablename__ = "run_worker"

    executor_id: str = Field(max_length=200, primary_key=True)
    host: str = Field(max_length=200)
    pid: int
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
