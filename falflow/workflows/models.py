"""Workflow tables: the current document and every earlier version of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from falflow.kit.timeutil import UTCDateTime, utcnow


class Workflow(SQLModel, table=True):
    __tablename__ = "workflow"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    # Bumped by every save; a save names the version it was based on (optimistic locking).
    version: int = Field(default=1)
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Kept with every save so that lists never load the documents themselves.
    node_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class WorkflowVersion(SQLModel, table=True):
    """The document as it was at one version; written on every save and kept."""

    __tablename__ = "workflow_version"
    __table_args__ = (UniqueConstraint("workflow_id", "version", name="uq_workflow_version"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: uuid.UUID = Field(foreign_key="workflow.id", index=True, ondelete="CASCADE")
    version: int
    name: str = Field(max_length=200)
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
