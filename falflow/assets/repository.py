"""SQL for assets. Reads for users are scoped to the owner, so another user's id finds nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, exists, or_, update
from sqlmodel import Session, col, select

from falflow.assets.listing import AssetCursor, AssetFilters
from falflow.assets.models import Asset, AssetParent


def add(session: Session, row: Asset) -> None:
    session.add(row)
    session.flush()


def add_parent_links(session: Session, child_id: uuid.UUID, parent_ids: Sequence[uuid.UUID]) -> None:
    """Link `child_id` to each distinct parent, at the position of its first occurrence."""
    seen: set[uuid.UUID] = set()
    for position, parent_id in enumerate(parent_ids):
        if parent_id in seen:
            continue
        seen.add(parent_id)
        session.add(AssetParent(child_id=child_id, parent_id=parent_id, position=position))
    session.flush()


def get_for_owner(
    session: Session, owner_id: uuid.UUID, asset_id: uuid.UUID, *, include_deleted: bool = False
) -> Asset | None:
    statement = select(Asset).where(Asset.id == asset_id, Asset.owner_id == owner_id)
    if not include_deleted:
        statement = statement.where(col(Asset.deleted_at).is_(None))
    return session.exec(statement).first()


def get_many_for_owner(session: Session, owner_id: uuid.UUID, asset_ids: Iterable[uuid.UUID]) -> list[Asset]:
    """Return the owner's assets among `asset_ids`, deleted ones included, in no fixed order."""
    ids = list(set(asset_ids))
    if not ids:
        return []
    statement = select(Asset).where(Asset.owner_id == owner_id, col(Asset.id).in_(ids))
    return list(session.exec(statement))


def find_live_with_sha256(session: Session, owner_id: uuid.UUID, sha256: str) -> Asset | None:
    """Return the oldest live asset of the owner whose bytes hash to `sha256`."""
    statement = (
        select(Asset)
        .where(Asset.owner_id == owner_id, Asset.sha256 == sha256, col(Asset.deleted_at).is_(None))
        .order_by(col(Asset.created_at), col(Asset.id))
        .limit(1)
    )
    return session.exec(statement).first()


def list_page(
    session: Session, owner_id: uuid.UUID, filters: AssetFilters, *, limit: int, after: AssetCursor | None
) -> list[Asset]:
    statement = select(Asset).where(Asset.owner_id == owner_id, col(Asset.deleted_at).is_(None))
    if filters.kind is not None:
        statement = statement.where(Asset.kind == filters.kind.value)
    if filters.workflow_id is not None:
        statement = statement.where(Asset.workflow_id == filters.workflow_id)
    if filters.run_id is not None:
        statement = statement.where(Asset.run_id == filters.run_id)
    if filters.favourite is not None:
        statement = statement.where(Asset.favourite == filters.favourite)
    if filters.q:
        statement = statement.where(col(Asset.prompt).ilike(f"%{_escape_like(filters.q)}%", escape="\\"))
    if filters.created_after is not None:
        statement = statement.where(col(Asset.created_at) >= filters.created_after)
    if filters.created_before is not None:
        statement = statement.where(col(Asset.created_at) < filters.created_before)
    if after is not None:
        statement = statement.where(
            or_(
                col(Asset.created_at) < after.created_at,
                and_(col(Asset.created_at) == after.created_at, col(Asset.id) < after.id),
            )
        )
    statement = statement.order_by(col(Asset.created_at).desc(), col(Asset.id).desc()).limit(limit)
    return list(session.exec(statement))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_children(session: Session, owner_id: uuid.UUID, parent_id: uuid.UUID, *, limit: int) -> list[Asset]:
    """Return live assets of the owner made from `parent_id`, oldest first."""
    statement = (
        select(Asset)
        .join(AssetParent, col(AssetParent.child_id) == col(Asset.id))
        .where(AssetParent.parent_id == parent_id, Asset.owner_id == owner_id, col(Asset.deleted_at).is_(None))
        .order_by(col(Asset.created_at), col(Asset.id))
        .limit(limit)
    )
    return list(session.exec(statement))


def save(session: Session, row: Asset) -> None:
    session.add(row)
    session.flush()


def list_deleted_before(session: Session, cutoff: datetime, *, limit: int) -> list[Asset]:
    """Return soft-deleted assets of any owner, deleted before `cutoff` and not yet purged."""
    statement = (
        select(Asset)
        .where(col(Asset.deleted_at) < cutoff, col(Asset.purged_at).is_(None))
        .order_by(col(Asset.deleted_at), col(Asset.id))
        .limit(limit)
    )
    return list(session.exec(statement))


def clear_thumbnail_key(session: Session, thumbnail_key: str) -> None:
    """Forget a reserved thumbnail that could not be rendered, on every row that shares it."""
    session.execute(
        update(Asset).where(col(Asset.thumbnail_key) == thumbnail_key).values(thumbnail_key=None)
    )


def key_referenced(session: Session, key: str) -> bool:
    """Return whether any row, deleted or not, names `key` as its file or thumbnail."""
    references = or_(col(Asset.storage_key) == key, col(Asset.thumbnail_key) == key)
    return bool(session.exec(select(exists().where(references))).one())


def has_live_with_key(session: Session, owner_id: uuid.UUID, storage_key: str) -> bool:
    """Return whether a live asset of the owner stores its file under `storage_key`."""
    statement = select(exists().where(
        Asset.owner_id == owner_id, Asset.storage_key == storage_key, col(Asset.deleted_at).is_(None)
    ))
    return bool(session.exec(statement).one())


def key_still_needed(session: Session, key: str, cutoff: datetime) -> bool:
    """Return whether a row that keeps its file references `key`.

    Such a row is live, or was deleted at or after `cutoff` (still inside its grace period).
    """
    keeps_file = and_(
        col(Asset.purged_at).is_(None),
        or_(col(Asset.deleted_at).is_(None), col(Asset.deleted_at) >= cutoff),
    )
    references = or_(col(Asset.storage_key) == key, col(Asset.thumbnail_key) == key)
    statement = select(exists().where(keeps_file, references))
    return bool(session.exec(statement).one())


def mark_purged(session: Session, asset_ids: Sequence[uuid.UUID], when: datetime) -> None:
    if asset_ids:
        session.execute(update(Asset).where(col(Asset.id).in_(list(asset_ids))).values(purged_at=when))
        session.flush()
