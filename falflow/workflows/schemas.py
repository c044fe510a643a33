"""Request and response bodies of the workflows API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


# Versions and offsets fit comfortably below every database's integer limit.
MAX_VERSION = 2**31 - 1


def _clean_name(value: str | None) -> str | None:
    """Strip whitespace and reject control characters in names and descriptions."""
    if value is None:
        return None
    if any(ord(ch) < 32 and ch not in "\n\t" or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters; use printable text")
    return value.strip()


def _non_empty(value: str | None) -> str | None:
    if value is not None and not value:
        raise ValueError("must contain at least one visible character")
    return value


class WorkflowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    document: dict[str, Any] | None = Field(default=None, description="A falflow workflow document; empty when omitted.")
    template_id: str | None = Field(default=None, description="Start from this template (see GET /api/templates).")

    @field_validator("name", "description")
    @classmethod
    def _check_text(cls, value: str) -> str:
        cleaned = _clean_name(value)
        return value if cleaned is None else cleaned

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _non_empty(value) or value


class WorkflowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: int = Field(ge=1, le=MAX_VERSION, description="The version this edit started from; a stale one gets 409.")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    document: dict[str, Any] | None = None

    @field_validator("name", "description")
    @classmethod
    def _check_text(cls, value: str | None) -> str | None:
        return _clean_name(value)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return _non_empty(value)


class RestoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: int = Field(ge=1, le=MAX_VERSION, description="The current version the client has loaded; a stale one gets 409.")


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
