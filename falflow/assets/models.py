"""Asset tables: one row per stored output or upload, and the parent links between them.

Parents are kept twice, on purpose. `Asset.parent_asset_ids` is the ordered list as the run
engine passed it (duplicates included), returned with the asset at no extra query. The
`asset_parent` link table stores the same edges once each, with foreign keys. Its index on
`parent_id` serves the lookup "which assets were made from this one" (lineage children), which
a JSON column cannot index on both SQLite and PostgreSQL.

Several rows may share one stored file: identical bytes of one owner are stored once, and a
cache hit (`reused_from_asset_id`) points at the file of the asset it reuses. A file is removed
only when no row that still needs it references it (see `purge.py`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Text
from sqlmodel import Field, SQLModel

from falflow.kit.timeutil import UTCDateTime, utcnow


class AssetKind(str, enum.Enum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    TEXT = "text"
    JSON = "json"


class Asset(SQLModel, table=True):
    __tablename__ = "asset"
    __table_args__ = (
        # The gallery's order (newest first) and its keyset cursor; both SQLite and PostgreSQL
        # read an ascending index backwards for ORDER BY ... DESC.
        Index("ix_asset_owner_created", "owner_id", "created_at", "id"),
        Index("ix_asset_owner_kind_created", "owner_id", "kind", "created_at"),
        Index("ix_asset_owner_favourite_created", "owner_id", "favourite", "created_at"),
        Index("ix_asset_owner_workflow", "owner_id", "workflow_id"),
        Index("ix_asset_run_node", "run_id", "node_id", "item_index"),
        Index("ix_asset_owner_sha256", "owner_id", "sha256"),
        Index("ix_asset_storage_key", "storage_key"),
        Index("ix_asset_thumbnail_key", "thumbnail_key"),
        Index("ix_asset_deleted_at", "deleted_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")
    kind: str = Field(max_length=16, description="An AssetKind value.")
    mime_type: str = Field(max_length=100)
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64, description="Hex SHA-256 of the stored bytes.")
    width: int | None = Field(default=None, description="Pixels; images and videos.")
    height: int | None = Field(default=None, description="Pixels; images and videos.")
    duration_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    storage_key: str = Field(max_length=256)
    thumbnail_key: str | None = Field(default=None, max_length=256)
    # The uploader's file name, kept only for the download name; never part of a path.
    original_filename: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    # Provenance. No foreign keys to workflow or run: an asset stays in the gallery, with its
    # lineage, even when those rows are removed.
    workflow_id: uuid.UUID | None = Field(default=None)
    run_id: uuid.UUID | None = Field(default=None)
    node_id: str | None = Field(default=None, max_length=100)
    item_index: int = Field(default=0, description="Batch item within the node run, from 0.")
    endpoint_id: str | None = Field(default=None, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    seed: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    cost_credits: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    prompt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    parent_asset_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sandbox: bool = Field(default=False, description="Produced by the fal stand-in, not by fal.")
    source_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reused_from_asset_id: uuid.UUID | None = Field(default=None, foreign_key="asset.id", ondelete="SET NULL")

    favourite: bool = Field(default=False)
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Set once a deleted row no longer keeps its file (removed, or still used by other rows).
    purged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    @property
    def asset_kind(self) -> AssetKind:
        return AssetKind(self.kind)


class AssetParent(SQLModel, table=True):
    """One lineage edge: `child_id` was made with `parent_id` as an input."""

    __tablename__ = "asset_parent"

    child_id: uuid.UUID = Field(foreign_key="asset.id", primary_key=True, ondelete="CASCADE")
    parent_id: uuid.UUID = Field(foreign_key="asset.id", primary_key=True, index=True, ondelete="CASCADE")
    # Index of the parent's first occurrence in the child's `parent_asset_ids`.
    position: int = Field(default=0)
