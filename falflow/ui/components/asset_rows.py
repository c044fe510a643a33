"""Plain dicts for the gallery's lightbox and lineage panel, built from `asset_lineage`."""

from __future__ import annotations

from typing import Any

from falflow.assets.lineage import AssetLineage
from falflow.assets.models import Asset
from falflow.graph.catalog import NodeCatalog
from falflow.ui.components.formatting import format_bytes, format_credits, format_timestamp
from falflow.ui.components.run_rows import asset_preview, short_text


def _dimensions(asset: Asset) -> str:
    if asset.width and asset.height:
        return f"{asset.width} × {asset.height} px"
    return ""


def _duration(asset: Asset) -> str:
    return "" if asset.duration_seconds is None else f"{asset.duration_seconds:.1f} s"


def _default_prompt(catalog: NodeCatalog | None, endpoint_id: str) -> str | None:
    spec = catalog.get(endpoint_id) if catalog is not None and endpoint_id else None
    if spec is None:
        return None
    default = next((param.default for param in spec.params if param.name == "prompt"), None)
    return default if isinstance(default, str) else None


def _shown_prompt(lineage: AssetLineage, catalog: NodeCatalog | None) -> tuple[str, bool]:
    """Return the prompt to show and whether it came from an ancestor.

    An asset whose prompt is empty or its endpoint's default (an upscaler's "masterpiece, best
    quality" boilerplate) shows the nearest ancestor's prompt instead, which is what the user typed.
    """
    own = lineage["asset"].prompt or ""
    default = _default_prompt(catalog, lineage["endpoint_id"] or "")
    if own and own != default:
        return own, False
    # Ancestors come generation by generation, so the first match is the nearest.
    inherited = next((entry["asset"].prompt for entry in lineage["ancestors"] if entry["asset"].prompt), None)
    if inherited:
        return inherited, True
    return own, False


def _endpoint_title(catalog: NodeCatalog | None, endpoint_id: str) -> str:
    spec = catalog.get(endpoint_id) if catalog is not None and endpoint_id else None
    return spec.title if spec is not None else endpoint_id


def asset_detail(lineage: AssetLineage, catalog: NodeCatalog | None = None) -> dict[str, Any]:
    """Return the selected asset with its provenance, direct parents and children.

    With `catalog`, the endpoint gets its catalog title and the prompt may come from an
    ancestor (see `_shown_prompt`).
    """
    asset = lineage["asset"]
    prompt, inherited = _shown_prompt(lineage, catalog)
    parents = [
        {**asset_preview(entry["asset"]), "deleted": entry["asset"].deleted_at is not None}
        for entry in lineage["ancestors"]
        if entry["depth"] == 1
    ]
    return {
        **asset_preview(asset),
        "prompt": prompt,
        "prompt_inherited": inherited,
        "endpoint_title": _endpoint_title(catalog, lineage["endpoint_id"] or ""),
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
    "id": "", "kind": "", "has_thumbnail": False, "prompt": "", "prompt_inherited": False, "endpoint_title": "",
    "sandbox": False, "favourite": False, "mime_type": "",
    "size": "", "dimensions": "", "duration": "", "created": "", "run_id": "", "workflow_id": "", "node_id": "",
    "item_index": 0, "endpoint_id": "", "seed": "", "cost": "", "params": [], "original_filename": "", "reused": False,
    "parents": [], "missing_parents": 0, "older_ancestors": 0, "children": [], "truncated": False,
}
