"""The baseline of the chain figure: the same fal calls made directly through `FalGateway`, in sequence."""

from __future__ import annotations

import time
from typing import Any

from bench.documents import IMAGE_TO_IMAGE, TEXT_TO_IMAGE, flux_arguments
from falflow.integrations.fal import FalGateway
from falflow.settings import Settings

IMAGE_TYPES = ("image/*",)
MAX_DOWNLOAD_BYTES = Settings.model_fields["max_download_bytes"].default


async def call_endpoint(gateway: FalGateway, endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Submit, follow the status until it completes, then fetch the result: what the engine does per node."""
    submitted = await gateway.submit(endpoint_id, arguments)
    async for _status in gateway.watch(endpoint_id, submitted.request_id):
        pass
    return await gateway.result(endpoint_id, submitted.request_id, completed=True)


async def call_chain(gateway: FalGateway, nodes: int, *, seed: int, download_outputs: bool = False) -> None:
    """Run the chain of `bench.documents.fal_chain` by hand, and download each output if `download_outputs`."""

    async def download(url: str) -> None:
        if download_outputs:
            await gateway.download_media(url, max_bytes=MAX_DOWNLOAD_BYTES, allowed_content_types=IMAGE_TYPES)

    result = await call_endpoint(gateway, TEXT_TO_IMAGE, flux_arguments(seed))
    image_url = str(result["images"][0]["url"])
    await download(image_url)
    for _ in range(nodes - 1):
        result = await call_endpoint(gateway, IMAGE_TO_IMAGE, {"image_url": image_url})
        image_url = str(result["image"]["url"])
        await download(image_url)


async def run_direct_chain(gateway: FalGateway, nodes: int, *, seed: int) -> float:
    """Run the chain of `bench.documents.fal_chain` by hand and return its wall time in seconds."""
    started = time.perf_counter()
    await call_chain(gateway, nodes, seed=seed)
    return time.perf_counter() - started
