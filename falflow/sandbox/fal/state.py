"""In-memory state of the stand-in: configuration, requests, files and fault counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from falflow.sandbox.fal.catalog import EndpointSchema, load_catalog
from falflow.sandbox.fal.config import FalStandinConfig
from falflow.sandbox.fal.faults import FaultCounters
from falflow.sandbox.fal.simulator import QueueSimulator
from falflow.sandbox.fal.store import FileStore


@dataclass
class MultipartSession:
    """An upload in progress: either fal's CDN multipart upload or the signed-URL ``fal`` storage upload."""

    file_name: str
    content_type: str
    parts: dict[int, bytes] = field(default_factory=dict)


class StandinState:
    """The stand-in's state; ``initial_config`` is what ``POST /_sandbox/reset`` restores."""

    def __init__(self, config: FalStandinConfig) -> None:
        self.initial_config = config
        self.config = config
        self.catalog: dict[str, EndpointSchema] = load_catalog()
        self.store = FileStore(config.max_stored_bytes)
        self.faults = FaultCounters()
        self.queue = QueueSimulator(self.store, lambda: self.config)
        self.uploads: dict[str, MultipartSession] = {}

    async def set_config(self, config: FalStandinConfig) -> None:
        """Replace the configuration; fault counters restart and queued requests recheck the slot limit."""
        self.config = config
        self.faults.reset()
        self.store.set_max_bytes(config.max_stored_bytes)
        await self.queue.wake_waiters()

    async def reset(self) -> None:
        """Forget every request, file and upload, and restore the configuration given at start."""
        await self.queue.reset()
        self.store.clear()
        self.uploads.clear()
        await self.set_config(self.initial_config)

    def base_url(self, request: Request) -> str:
        """Return the origin to put into returned URLs: ``public_url``, or the one the request used."""
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")
