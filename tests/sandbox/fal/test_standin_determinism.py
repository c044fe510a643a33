"""Identical inputs give identical bytes; another seed gives other bytes (real client, real HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from falflow.integrations.fal import FalGateway

MEDIA_TYPES = ["image/*", "video/*", "audio/*"]


async def first_file_sha256(
    gateway: FalGateway, endpoint_id: str, arguments: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    submitted = await gateway.submit(endpoint_id, arguments)
    output = await gateway.result(endpoint_id, submitted.request_id)
    file_object = (output.get("images") or [None])[0] or output.get("image") or output.get("video") or output["audio"]
    downloaded = await gateway.download_media(
        file_object["url"], max_bytes=20_000_000, allowed_content_types=MEDIA_TYPES
    )
    return downloaded.sha256, output


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("endpoint_id", "arguments"),
    [
        ("fal-ai/flux/dev", {"prompt": "a lighthouse", "image_size": {"width": 160, "height": 120}, "seed": 7}),
        ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"prompt": "a lighthouse", "duration": "5"}),
        ("fal-ai/veo3.1", {"prompt": "a lighthouse", "duration": "4s", "seed": 7}),
        ("fal-ai/elevenlabs/tts/multilingual-v2", {"text": "A lighthouse at dusk."}),
    ],
)
async def test_same_inputs_same_bytes(gateway: FalGateway, endpoint_id: str, arguments: dict[str, Any]) -> None:
    first, _ = await first_file_sha256(gateway, endpoint_id, arguments)
    second, _ = await first_file_sha256(gateway, endpoint_id, arguments)

    assert first == second


@pytest.mark.asyncio
async def test_other_seed_other_bytes(gateway: FalGateway) -> None:
    arguments = {"prompt": "a lighthouse", "image_size": {"width": 160, "height": 120}}

    with_seed_1, output_1 = await first_file_sha256(gateway, "fal-ai/flux/dev", {**arguments, "seed": 1})
    with_seed_2, output_2 = await first_file_sha256(gateway, "fal-ai/flux/dev", {**arguments, "seed": 2})

    assert with_seed_1 != with_seed_2
    assert output_1["seed"] == 1
    assert output_2["seed"] == 2


@pytest.mark.asyncio
async def test_missing_seed_is_chosen_and_returned(gateway: FalGateway) -> None:
    arguments = {"prompt": "a lighthouse", "image_size": {"width": 160, "height": 120}}

    digest, output = await first_file_sha256(gateway, "fal-ai/flux/schnell", arguments)
    replayed, _ = await first_file_sha256(gateway, "fal-ai/flux/schnell", {**arguments, "seed": output["seed"]})

    assert isinstance(output["seed"], int)
    assert replayed == digest
