"""Request and response bodies of the workflows API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WorkflowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    document: dict[str, Any] | None = Field(default=None, description="A falflow workflow document; empty when omitted.")
    template_id: str | None = Field(default=None, description="Start from this template (see GET /api/templates).")


class WorkflowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: int = Field(ge=1, description="The version this edit started from; a stale one gets 409.")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    document: dict[str, Any] | None = None


class RestoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: int = Field(ge=1, description="The current version the client holds; a stale one gets 409.")


class WorkflowSummary(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    version: int
    node_count: int
    created_at: datetime
    updated_at: datetime


class WorkflowPublic(WorkflowSummary):
    document: dict[str, Any]


class WorkflowVersionSummary(BaseModel):
    version: int
    name: str
    note: str
    node_count: int
    created_at: datetime


class WorkflowVersionPublic(WorkflowVersionSummary):
    document: dict[str, Any]
