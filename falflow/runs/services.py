"""What the run engine needs from the rest of falflow, gathered once per process.

The fal gateway owns an HTTP connection pool bound to one event loop. The engine may run node
workflows on more than one loop (the web server's and the engine's recovery loop), so gateways
and concurrency limits are kept per loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from falflow.assets.storage import AssetStorage
from falflow.assets.thumbnail_queue import ThumbnailQueue
from falflow.context import AppContext
from falflow.graph.catalog import NodeCatalog
from falflow.integrations.fal import FalGateway


@dataclass
class RunServices:
    context: AppContext
    catalog: NodeCatalog
    storage: AssetStorage
    make_gateway: Callable[[], FalGateway]
    sandbox: bool
    per_user_concurrency: int
    global_concurrency: int
    node_timeout_seconds: float
    max_retries: int = 4
    retry_base_seconds: float = 0.5
    cancel_check_seconds: float = 1.0
    # Renders output thumbnails after the success commit. Without it, they are rendered before the commit.
    thumbnails: ThumbnailQueue | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gateways: dict[asyncio.AbstractEventLoop, FalGateway] = field(default_factory=dict)
    _global_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = field(default_factory=dict)
    _user_slots: dict[tuple[asyncio.AbstractEventLoop, uuid.UUID], asyncio.Semaphore] = field(default_factory=dict)
    cancelled_runs: set[uuid.UUID] = field(default_factory=set)

    def gateway(self) -> FalGateway:
        loop = asyncio.get_running_loop()
        with self._lock:
            gateway = self._gateways.get(loop)
            if gateway is None:
                gateway = self._gateways[loop] = self.make_gateway()
            return gateway

    @contextlib.asynccontextmanager
    async def slot(self, owner_id: uuid.UUID) -> AsyncIterator[bool]:
        """Hold one of the owner's fal slots and one of the process's, for a request's lifetime.

        Yields whether the caller had to wait for them.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            global_slots = self._global_slots.setdefault(loop, asyncio.Semaphore(self.global_concurrency))
            user_slots = self._user_slots.setdefault((loop, owner_id), asyncio.Semaphore(self.per_user_concurrency))
        waited = user_slots.locked() or global_slots.locked()
        async with user_slots, global_slots:
            yield waited

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            gateway = self._gateways.pop(loop, None)
        if gateway is not None:
            await gateway.aclose()


_services: RunServices | None = None


def configure_run_services(services: RunServices | None) -> None:
    global _services
    _services = services


def get_run_services() -> RunServices:
    if _services is None:
        raise RuntimeError("the run engine is not configured; call falflow.runs.engine.launch_engine first")
    return _services
