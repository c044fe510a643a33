"""Plain dicts for the gallery's lightbox and lineage panel, built from `asset_lineage`."""

from __future__ import annotations

from typing import Any

from falflow.assets.lineage import AssetLineage
from falflow.assets.models import Asset
from falflow.ui.components.formatting import format_bytes, format_credits, format_timestamp
from falflow.ui.components.run_rows import asset_preview, short_text


def _dimensions(asset: Asset) -> str:
    if asset.width and asset.height:
        return f"{asset.width} × {asset.height} px"
    return ""


def _duration(asset: Asset) -> str:
    return "" if asset.duration_seconds is None else f"{asset.duration_seconds:.1f} s"


def asset_detail(lineage: AssetLineage) -> dict[str, Any]:
    """Return the selected asset with its provenance, direct parents and children."""
    asset = lineage["asset"]
    parents = [
        {**asset_preview(entry["asset"]), "deleted": entry["asset"].deleted_at is not None}
        for entry in lineage["ancestors"]
        if entry["depth"] == 1
    ]
    return {
        **asset_preview(asset),
        "favourite": asset.favourite,
        "mime_type": asset.mime_type,
        "size": format_bytes(asset.size_bytes),
        "dimensions": _dimensions(asset),
        "duration": _duration(asset),
        "created": format_timestamp(asset.created_at),
        "run_id": str(lineage["run_id"]) if lineage["run_id"] else "",
        "workflow_id": str(lineage["workflow_id"]) if lineage["workflow_id"] else "",
        "node_id": lineage["node_id"] or "",
        "item_index": lineage["item_index"],
        "endpoint_id": lineage["endpoint_id"] or "",
        "seed": "" if lineage["seed"] is None else str(lineage["seed"]),
        "cost": format_credits(lineage["cost_credits"]),
        "params": [f"{name} = {short_text(value, 160)}" for name, value in sorted(lineage["params"].items())],
        "original_filename": asset.original_filename or "",
        "reused": asset.reused_from_asset_id is not None,
        "parents": parents,
        "missing_parents": len(lineage["missing_parent_ids"]),
        "older_ancestors": sum(1 for entry in lineage["ancestors"] if entry["depth"] > 1),
        "children": [asset_preview(child) for child in lineage["children"]],
        "truncated": lineage["truncated"],
    }


# The lightbox's value while no asset is open. Every key is present, so the view never reads a
# missing list while the dialog still renders during its closing animation.
EMPTY_DETAIL: dict[str, Any] = {
    "id": "", "kind": "", "has_thumbnail": False, "prompt": "", "sandbox": False, "favourite": False, "mime_type": "",
    "size": "", "dimensions": "", "duration": "", "created": "", "run_id": "", "workflow_id": "", "node_id": "",
    "item_index": 0, "endpoint_id": "", "seed": "", "cost": "", "params": [], "original_filename": "", "reused": False,
    "parents": [], "missing_parents": 0, "older_ancestors": 0, "children": [], "truncated": False,
}
