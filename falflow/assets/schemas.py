"""Request and response bodies of the assets API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from falflow.assets.lineage import AssetLineage
from falflow.assets.models import Asset


class AssetPublic(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="image, video, audio, text or json.")
    mime_type: str
    size_bytes: int
    sha256: str
    width: int | None = Field(description="Pixels; images and videos.")
    height: int | None = Field(description="Pixels; images and videos.")
    duration_seconds: float | None
    created_at: datetime
    workflow_id: uuid.UUID | None
    run_id: uuid.UUID | None
    node_id: str | None
    item_index: int
    endpoint_id: str | None
    params: dict[str, Any]
    seed: int | None
    cost_credits: int = Field(description="Credits charged for this output (1 credit = US$0.001).")
    prompt: str | None
    parent_asset_ids: list[uuid.UUID]
    favourite: bool
    sandbox: bool = Field(description="Made by the fal stand-in, not by fal.")
    source_url: str | None
    reused_from_asset_id: uuid.UUID | None
    original_filename: str | None
    deleted_at: datetime | None = Field(description="Set only on deleted ancestors shown in lineage.")
    file_url: str = Field(description="The file, for <img>/<video> tags; the session cookie authenticates it.")
    thumbnail_url: str | None = Field(description="A WebP preview at most 384 px on its longest side.")

    @classmethod
    def from_row(cls, asset: Asset) -> AssetPublic:
        return cls(
            id=asset.id, kind=asset.kind, mime_type=asset.mime_type, size_bytes=asset.size_bytes, sha256=asset.sha256,
            width=asset.width, height=asset.height, duration_seconds=asset.duration_seconds,
            created_at=asset.created_at,
            workflow_id=asset.workflow_id, run_id=asset.run_id, node_id=asset.node_id, item_index=asset.item_index,
            endpoint_id=asset.endpoint_id, params=asset.params, seed=asset.seed, cost_credits=asset.cost_credits,
            prompt=asset.prompt, parent_asset_ids=[uuid.UUID(value) for value in asset.parent_asset_ids],
            favourite=asset.favourite, sandbox=asset.sandbox, source_url=asset.source_url,
            reused_from_asset_id=asset.reused_from_asset_id, original_filename=asset.original_filename,
            deleted_at=asset.deleted_at,
            file_url=f"/api/assets/{asset.id}/file",
            thumbnail_url=f"/api/assets/{asset.id}/thumbnail" if asset.thumbnail_key else None,
        )


class AssetPagePublic(BaseModel):
    items: list[AssetPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class LineageAncestorPublic(BaseModel):
    depth: int = Field(description="1 for a direct parent, 2 for a grandparent, and so on.")
    asset: AssetPublic


class LineagePublic(BaseModel):
    ancestors: list[LineageAncestorPublic] = Field(description="Each ancestor once, nearest generation first.")
    missing_parent_ids: list[uuid.UUID] = Field(description="Parent ids that no longer name one of your assets.")
    children: list[AssetPublic] = Field(description="Assets made with this one as an input, oldest first.")
    truncated: bool = Field(description="True when ancestors or children were cut off at a limit.")


class AssetDetailPublic(AssetPublic):
    lineage: LineagePublic

    @classmethod
    def from_lineage(cls, lineage: AssetLineage) -> AssetDetailPublic:
        return cls(
            **AssetPublic.from_row(lineage["asset"]).model_dump(),
            lineage=LineagePublic(
                ancestors=[
                    LineageAncestorPublic(depth=entry["depth"], asset=AssetPublic.from_row(entry["asset"]))
                    for entry in lineage["ancestors"]
                ],
                missing_parent_ids=lineage["missing_parent_ids"],
                children=[AssetPublic.from_row(child) for child in lineage["children"]],
                truncated=lineage["truncated"],
            ),
        )


class AssetUpdate(BaseModel):
    """The only change an asset accepts; other fields are rejected with a 422 by the route."""

    model_config = ConfigDict(extra="allow")

    favourite: bool
