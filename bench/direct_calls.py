"""The baseline of the chain figure: the same fal calls made directly through `FalGateway`, in sequence."""

from __future__ import annotations

import time
from typing import Any

from bench.documents import IMAGE_TO_IMAGE, TEXT_TO_IMAGE, flux_arguments
from falflow.integrations.fal import FalGateway


async def call_endpoint(gateway: FalGateway, endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Submit, follow the status until it completes, then fetch the result: what the engine does per node."""
    submitted = await gateway.submit(endpoint_id, arguments)
    async for _status in gateway.watch(endpoint_id, submitted.request_id):
        pass
    return await gateway.result(endpoint_id, submitted.request_id, completed=True)


async def run_direct_chain(gateway: FalGateway, nodes: int, *, seed: int) -> float:
    """Run the chain of `bench.documents.fal_chain` by hand and return its wall time in seconds."""
    started = time.perf_counter()
    result = await call_endpoint(gateway, TEXT_TO_IMAGE, flux_arguments(seed))
    image_url = str(result["images"][0]["url"])
    for _ in range(nodes - 1):
        result = await call_endpoint(gateway, IMAGE_TO_IMAGE, {"image_url": image_url})
        image_url = str(result["image"]["url"])
    return time.perf_counter() - started
