"""Thumbnails of run outputs, rendered after their asset rows are committed.

A run's next node can start once the previous node's success is committed. Rendering the
thumbnail before that commit put its WebP encoding on the run's critical path: about 8 ms for a
256 x 256 PNG on a 2-core AMD EPYC host, more for larger images. The engine now reserves the
thumbnail's key, commits, and hands the rendering to `ThumbnailQueue`, which renders on one
thread of its own.

A thumbnail that is still missing when it is requested (the process stopped, or the queue was
full) is rendered by the thumbnail route then, so no reserved thumbnail stays missing once shown.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from falflow.assets.errors import StoredObjectNotFoundError
from falflow.assets.service import forget_thumbnail, render_thumbnail
from falflow.assets.storage import AssetStorage
from falflow.kit.db import Database

logger = logging.getLogger("falflow.assets")

# Jobs are two keys each, so the bound only protects memory from a runaway producer.
MAX_WAITING = 10_000


class ThumbnailQueue:
    """Renders reserved thumbnails in order on one background thread."""

    def __init__(self, database: Database, storage: AssetStorage, *, max_waiting: int = MAX_WAITING) -> None:
        self._database = database
        self._storage = storage
        self._max_waiting = max_waiting
        self._lock = threading.Lock()
        self._waiting = 0
        self._stopped = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="falflow-thumbnails")

    def submit(self, *, storage_key: str, thumbnail_key: str) -> None:
        """Queue the thumbnail of `storage_key`; when the queue is full or stopped, the route renders it later."""
        with self._lock:
            if self._stopped or self._waiting >= self._max_waiting:
                logger.info("asset.thumbnail.left_for_route", extra={"thumbnail_key": thumbnail_key})
                return
            self._waiting += 1
            # Under the lock, so that `stop` cannot shut the executor down between the check and this.
            self._executor.submit(self._render, storage_key, thumbnail_key)

    def _render(self, storage_key: str, thumbnail_key: str) -> None:
        with self._lock:
            self._waiting -= 1
        try:
            # The key is new, and only the route may also write it (with the same bytes), so the queue skips the check.
            if not render_thumbnail(self._storage, storage_key=storage_key, thumbnail_key=thumbnail_key,
                                    check_first=False):
                with self._database.write_session() as session:
                    forget_thumbnail(session, thumbnail_key)
        except StoredObjectNotFoundError:
            # The asset was deleted and purged before its turn came.
            logger.info("asset.thumbnail.file_gone", extra={"storage_key": storage_key})
        except Exception:  # noqa: BLE001 - the route renders the thumbnail when it is requested
            logger.warning("asset.thumbnail.deferred_failed", extra={
                "storage_key": storage_key, "thumbnail_key": thumbnail_key,
            }, exc_info=True)

    def wait_idle(self) -> None:
        """Block until every thumbnail queued so far is rendered (the tests use it)."""
        self._executor.submit(lambda: None).result()

    def stop(self) -> None:
        """Drop the thumbnails still waiting (the route renders them on request) and let the thread end.

        Return at once, because a render in progress finishes on its own thread.
        """
        with self._lock:
            self._stopped = True
            dropped = self._waiting
            self._executor.shutdown(wait=False, cancel_futures=True)
        if dropped:
            logger.info("asset.thumbnail.queue_stopped", extra={"dropped": dropped})
