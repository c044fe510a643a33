"""Generated media behaves like the real thing: cut-outs are transparent, speech round-trips, captions."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image
from standin_helpers import png_bytes

from falflow.integrations.fal import FalGateway, FalValidationError

MEDIA_TYPES = ["image/*", "audio/*", "video/*"]


async def run(gateway: FalGateway, endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    submitted = await gateway.submit(endpoint_id, arguments)
    return await gateway.result(endpoint_id, submitted.request_id)


async def fetch_image(gateway: FalGateway, url: str) -> Image.Image:
    downloaded = await gateway.download_media(url, max_bytes=10_000_000, allowed_content_types=MEDIA_TYPES)
    image = Image.open(io.BytesIO(downloaded.data))
    image.load()
    return image


@pytest.mark.asyncio
async def test_background_removal_makes_border_transparent(gateway: FalGateway) -> None:
    source = await gateway.upload(png_bytes(120, 80), "image/png", "subject.png")

    output = await run(gateway, "fal-ai/bria/background/remove", {"image_url": source})
    image = await fetch_image(gateway, output["image"]["url"])

    corner = image.getpixel((119, 79))
    centre = image.getpixel((60, 40))
    assert image.mode == "RGBA"
    assert isinstance(corner, tuple) and corner[3] == 0
    assert isinstance(centre, tuple) and centre[3] == 255


@pytest.mark.asyncio
async def test_upscaler_reads_data_uri(gateway: FalGateway) -> None:
    data_uri = "data:image/png;base64," + base64.b64encode(png_bytes(50, 40)).decode()

    output = await run(gateway, "fal-ai/esrgan", {"image_url": data_uri, "scale": 4})
    image = await fetch_image(gateway, output["image"]["url"])

    assert image.size == (200, 160)
    assert output["image"]["content_type"] == "image/png"


@pytest.mark.asyncio
async def test_upscaler_rejects_foreign_url(gateway: FalGateway) -> None:
    submitted = await gateway.submit("fal-ai/esrgan", {"image_url": "https://example.com/cat.png"})

    with pytest.raises(FalValidationError) as caught:
        await gateway.result("fal-ai/esrgan", submitted.request_id)

    assert caught.value.errors[0].type == "file_download_error"


@pytest.mark.asyncio
async def test_speech_round_trip(gateway: FalGateway) -> None:
    text = "Nodes connect models into one workflow."
    speech = await run(gateway, "fal-ai/kokoro/american-english", {"prompt": text})

    transcript = await run(gateway, "fal-ai/wizper", {"audio_url": speech["audio"]["url"]})
    words = await run(gateway, "fal-ai/elevenlabs/speech-to-text", {"audio_url": speech["audio"]["url"]})

    assert transcript["text"] == text
    assert transcript["chunks"][0]["timestamp"][1] > 1.0
    assert [word["text"] for word in words["words"]] == text.split()


@pytest.mark.asyncio
async def test_caption_names_sandbox_prompt(gateway: FalGateway) -> None:
    generated = await run(gateway, "fal-ai/flux/dev", {"prompt": "a teal teapot", "image_size": "square"})

    caption = await run(
        gateway, "fal-ai/florence-2-large/detailed-caption", {"image_url": generated["images"][0]["url"]}
    )

    assert "a teal teapot" in caption["results"]
    assert "512x512" in caption["results"]


@pytest.mark.asyncio
async def test_sync_mode_returns_data_uri(gateway: FalGateway) -> None:
    output = await run(gateway, "fal-ai/flux/schnell", {"prompt": "a kite", "image_size": "square", "sync_mode": True})

    url = output["images"][0]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert image.size == (512, 512)


@pytest.mark.asyncio
async def test_upscale_too_large_is_rejected(gateway: FalGateway) -> None:
    source = await gateway.upload(png_bytes(1100, 1100), "image/png", "big.png")
    submitted = await gateway.submit("fal-ai/clarity-upscaler", {"image_url": source, "upscale_factor": 4})

    with pytest.raises(FalValidationError) as caught:
        await gateway.result("fal-ai/clarity-upscaler", submitted.request_id)

    assert caught.value.errors[0].type == "image_too_large"
