"""Lineage of one asset: how it was made, what it was made from, and what was made from it."""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from sqlmodel import Session

from falflow.assets import repository
from falflow.assets.models import Asset
from falflow.kit.errors import NotFoundError

# Generations of ancestors returned; deeper ones are cut off and `truncated` is set.
MAX_LINEAGE_DEPTH = 8
# Ancestors returned in all, across generations.
MAX_LINEAGE_ANCESTORS = 200
MAX_LINEAGE_CHILDREN = 100


class LineageAncestor(TypedDict):
    asset: Asset
    # 1 for a direct parent, 2 for a grandparent, and so on.
    depth: int


class AssetLineage(TypedDict):
    asset: Asset
    workflow_id: uuid.UUID | None
    run_id: uuid.UUID | None
    node_id: str | None
    item_index: int
    endpoint_id: str | None
    params: dict[str, Any]
    seed: int | None
    cost_credits: int
    # Each ancestor once, nearest generation first; rebuild the graph from each
    # ancestor's own `parent_asset_ids`.
    ancestors: list[LineageAncestor]
    # Parent ids that name no asset of the owner.
    missing_parent_ids: list[uuid.UUID]
    # Live assets made with this one as an input, oldest first.
    children: list[Asset]
    # True when ancestors or children were cut off at a limit.
    truncated: bool


def asset_lineage(
    session: Session, owner_id: uuid.UUID, asset_id: uuid.UUID, *, max_depth: int = MAX_LINEAGE_DEPTH
) -> AssetLineage:
    """Return the owner's live asset with its provenance, ancestors and children, or raise 404.

    Ancestors are walked one generation per query, up to `max_depth` generations. Deleted
    ancestors are included (with `deleted_at` set) because they still explain the asset's origin.
    """
    asset = repository.get_for_owner(session, owner_id, asset_id)
    if asset is None:
        raise NotFoundError.for_resource("Asset", asset_id)

    ancestors: list[LineageAncestor] = []
    missing: list[uuid.UUID] = []
    seen: set[uuid.UUID] = {asset.id}
    generation = [asset]
    truncated = False
    for depth in range(1, max_depth + 1):
        unseen_ids = [pid for pid in _parent_ids(generation) if pid not in seen]
        if not unseen_ids:
            break
        seen.update(unseen_ids)
        found = {row.id: row for row in repository.get_many_for_owner(session, owner_id, unseen_ids)}
        missing.extend(pid for pid in unseen_ids if pid not in found)
        generation = [found[pid] for pid in unseen_ids if pid in found]
        room = MAX_LINEAGE_ANCESTORS - len(ancestors)
        if len(generation) > room:
            generation = generation[:room]
            truncated = True
        ancestors.extend(LineageAncestor(asset=row, depth=depth) for row in generation)
        if truncated:
            break
    else:
        truncated = any(pid not in seen for pid in _parent_ids(generation))

    children = repository.list_children(session, owner_id, asset.id, limit=MAX_LINEAGE_CHILDREN + 1)
    if len(children) > MAX_LINEAGE_CHILDREN:
        children = children[:MAX_LINEAGE_CHILDREN]
        truncated = True

    return AssetLineage(
        asset=asset,
        workflow_id=asset.workflow_id,
        run_id=asset.run_id,
        node_id=asset.node_id,
        item_index=asset.item_index,
        endpoint_id=asset.endpoint_id,
        params=asset.params,
        seed=asset.seed,
        cost_credits=asset.cost_credits,
        ancestors=ancestors,
        missing_parent_ids=missing,
        children=children,
        truncated=truncated,
    )


def _parent_ids(rows: list[Asset]) -> list[uuid.UUID]:
    """Return the distinct parent ids of `rows`, in order of first appearance."""
    ordered: dict[uuid.UUID, None] = {}
    for row in rows:
        for value in row.parent_asset_ids:
            ordered.setdefault(uuid.UUID(value), None)
    return list(ordered)
