"""Removal of stored files that only soft-deleted assets still reference.

A deleted asset keeps its file for a grace period. After that, its file and thumbnail are
removed unless another row still needs them: a live row, or one deleted inside the grace
period (rows share files through deduplication and cache reuse). The rows themselves stay,
marked `purged_at`, so lineage that mentions them keeps its ids.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from falflow.assets import repository
from falflow.assets.storage import AssetStorage
from falflow.kit.timeutil import utcnow

logger = logging.getLogger("falflow.assets.purge")

DEFAULT_PURGE_BATCH_SIZE = 500


@dataclass(frozen=True)
class PurgeReport:
    assets_purged: int
    files_deleted: int


def purge_deleted_assets(
    session: Session, storage: AssetStorage, older_than: datetime, *, batch_size: int = DEFAULT_PURGE_BATCH_SIZE
) -> PurgeReport:
    """Purge up to `batch_size` assets that were soft-deleted before `older_than`; flush only.

    Files are deleted before the caller commits. If the commit then fails, the rows stay
    unpurged and the next call deletes again, which is harmless because deleting a missing
    object is not an error.
    """
    candidates = repository.list_deleted_before(session, older_than, limit=batch_size)
    keys: dict[str, None] = {}
    for asset in candidates:
        keys.setdefault(asset.storage_key, None)
        if asset.thumbnail_key:
            keys.setdefault(asset.thumbnail_key, None)

    files_deleted = 0
    for key in keys:
        if repository.key_still_needed(session, key, older_than):
            continue
        storage.delete(key)
        files_deleted += 1

    repository.mark_purged(session, [asset.id for asset in candidates], utcnow())
    if candidates:
        logger.info("asset.purged", extra={"assets_purged": len(candidates), "files_deleted": files_deleted})
    return PurgeReport(assets_purged=len(candidates), files_deleted=files_deleted)
