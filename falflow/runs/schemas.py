"""Request and response bodies of the runs API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Run only if the workflow is still at this version (else 409)."
    )
    only_up_to: str | None = Field(default=None, max_length=100, description="Run this node and its ancestors only.")
    start_from: str | None = Field(
        default=None, max_length=100,
        description="Run this node and its descendants, reusing the latest outputs of everything upstream.",
    )
    force: bool = Field(default=False, description="Bypass the node cache (re-roll).")


class RunAccepted(BaseModel):
    run_id: uuid.UUID
    status: str
    estimated_credits: int
    status_url: str
    events_url: str
    stream_url: str


class RunNodePublic(BaseModel):
    node_id: str
    node_type: str
    status: str
    batch_count: int | None
    cost_credits: int
    outputs: dict[str, Any] | None
    error: str | None
    reused_from_run_id: uuid.UUID | None
    items: list[dict[str, Any]]


class RunPublic(BaseModel):
    id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_version: int
    status: str
    mode: str
    estimated_credits: int
    charged_credits: int
    error: str | None
    note: str | None
    options: dict[str, Any]
    last_event_seq: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunDetail(RunPublic):
    document: dict[str, Any]
    nodes: list[RunNodePublic]
