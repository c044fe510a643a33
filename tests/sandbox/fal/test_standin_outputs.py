"""Every catalog endpoint returns fal-shaped output whose files decode, driven through the real fal client."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import av
import pytest
from PIL import Image
from standin_helpers import png_bytes, wav_bytes

from falflow.integrations.fal import DownloadedFile, FalGateway

CATALOG = json.loads(resources.files("falflow.graph").joinpath("catalog_data", "fal_catalog.json").read_text("utf-8"))
ENDPOINTS = {item["endpoint_id"]: item for item in CATALOG["endpoints"]}
MEDIA_TYPES = ["image/*", "video/*", "audio/*"]
SMALL = {"width": 128, "height": 96}


@dataclass(frozen=True)
class Case:
    """Inputs for one endpoint and the expected output.

    ``image_size`` is the expected (width, height) of every image. ``ratio`` is the expected width/height
    ratio when only an aspect ratio is known. ``video_seconds`` and ``audio_seconds`` are expected
    durations, and ``audio_range`` bounds a duration when only a plausible range is known.
    """

    arguments: dict[str, Any]
    image_count: int | None = None
    image_size: tuple[int, int] | None = None
    ratio: float | None = None
    image_mode: str | None = None
    video_seconds: float | None = None
    video_has_audio: bool = False
    audio_seconds: float | None = None
    audio_range: tuple[float, float] | None = None
    text_fields: tuple[str, ...] = ()
    extra_checks: dict[str, Any] = field(default_factory=dict)


SPEECH = "Hello from the falflow sandbox, this is a short sentence."


def build_cases(image_url: str, video_url: str, audio_url: str) -> dict[str, Case]:
    """Return one case per catalog endpoint; the inputs reference files uploaded for the test."""
    return {
        "fal-ai/flux/schnell": Case({"prompt": "a kite", "image_size": SMALL, "num_images": 2}, 2, (128, 96)),
        "fal-ai/flux/dev": Case({"prompt": "a kite", "image_size": SMALL, "output_format": "png"}, 1, (128, 96)),
        "fal-ai/flux-pro/v1.1-ultra": Case({"prompt": "a kite", "aspect_ratio": "21:9"}, 1, ratio=21 / 9),
        "fal-ai/fast-sdxl": Case({"prompt": "a kite", "image_size": "square", "format": "png"}, 1, (512, 512)),
        "fal-ai/recraft/v3/text-to-image": Case({"prompt": "a kite", "image_size": SMALL}, 1, (128, 96)),
        "fal-ai/ideogram/v3": Case({"prompt": "a kite", "image_size": SMALL, "num_images": 3}, 3, (128, 96)),
        "fal-ai/nano-banana": Case(
            {"prompt": "a kite", "aspect_ratio": "16:9", "output_format": "webp"},
            1,
            ratio=16 / 9,
            text_fields=("description",),
        ),
        "fal-ai/nano-banana/edit": Case(
            {"prompt": "make it blue", "image_urls": [image_url]}, 1, (96, 64), text_fields=("description",)
        ),
        "fal-ai/flux-pro/kontext": Case({"prompt": "make it blue", "image_url": image_url}, 1, (96, 64)),
        "fal-ai/clarity-upscaler": Case({"image_url": image_url}, image_size=(192, 128)),
        "fal-ai/esrgan": Case({"image_url": image_url, "scale": 3, "output_format": "jpeg"}, image_size=(288, 192)),
        "fal-ai/bria/background/remove": Case({"image_url": image_url}, image_size=(96, 64), image_mode="RGBA"),
        "fal-ai/birefnet/v2": Case(
            {"image_url": image_url, "output_mask": True},
            image_size=(96, 64),
            image_mode="RGBA",
            extra_checks={"mask_image": True},
        ),
        "fal-ai/codeformer": Case({"image_url": image_url, "upscale_factor": 1.5}, image_size=(144, 96)),
        "fal-ai/florence-2-large/detailed-caption": Case({"image_url": image_url}, text_fields=("results",)),
        "fal-ai/ffmpeg-api/extract-frame": Case({"video_url": video_url, "frame_type": "last"}, 1, (256, 144)),
        "fal-ai/kling-video/v2.1/standard/image-to-video": Case(
            {"prompt": "pan", "image_url": image_url, "duration": "5"}, video_seconds=5.0
        ),
        "fal-ai/kling-video/v2.5-turbo/pro/text-to-video": Case(
            {"prompt": "pan", "duration": "10", "aspect_ratio": "9:16"}, video_seconds=10.0
        ),
        "fal-ai/minimax/hailuo-02/standard/image-to-video": Case(
            {"prompt": "pan", "image_url": image_url}, video_seconds=6.0
        ),
        "fal-ai/luma-dream-machine/ray-2": Case({"prompt": "pan", "duration": "9s"}, video_seconds=9.0),
        "fal-ai/wan/v2.2-a14b/text-to-video": Case(
            {"prompt": "pan", "num_frames": 33, "frames_per_second": 16},
            video_seconds=33 / 16,
            text_fields=("prompt",),
        ),
        "fal-ai/veo3.1": Case({"prompt": "pan", "duration": "4s"}, video_seconds=4.0, video_has_audio=True),
        "fal-ai/veo3.1/fast/image-to-video": Case(
            {"prompt": "pan", "image_url": image_url, "duration": "6s", "generate_audio": False}, video_seconds=6.0
        ),
        "fal-ai/elevenlabs/tts/multilingual-v2": Case({"text": SPEECH}, audio_range=(2.0, 8.0)),
        "fal-ai/minimax/speech-02-hd": Case({"text": SPEECH}, audio_range=(2.0, 8.0)),
        "fal-ai/kokoro/american-english": Case({"prompt": SPEECH, "speed": 2}, audio_range=(1.0, 4.0)),
        "fal-ai/wizper": Case({"audio_url": audio_url}, text_fields=("text",)),
        "fal-ai/elevenlabs/speech-to-text": Case({"audio_url": audio_url}, text_fields=("text", "language_code")),
        "openrouter/router": Case({"prompt": "Say hi", "model": "openai/gpt-4o-mini"}, text_fields=("output",)),
        "openrouter/router/vision": Case(
            {"prompt": "Describe", "model": "openai/gpt-4o-mini", "image_urls": [image_url]}, text_fields=("output",)
        ),
        "fal-ai/stable-audio": Case({"prompt": "drums", "seconds_total": 3}, audio_seconds=3.0),
        "fal-ai/mmaudio-v2": Case(
            {"prompt": "rain", "video_url": video_url, "duration": 3}, video_seconds=3.0, video_has_audio=True
        ),
        "fal-ai/lyria2": Case({"prompt": "calm piano"}, audio_seconds=30.0),
    }


async def upload_inputs(gateway: FalGateway) -> tuple[str, str, str]:
    """Upload a 96x64 PNG, a 3 s WebM made by the text-to-video endpoint, and a 1.5 s WAV."""
    image_url = await gateway.upload(png_bytes(96, 64), "image/png", "input.png")
    audio_url = await gateway.upload(wav_bytes(1.5), "audio/wav", "input.wav")
    submitted = await gateway.submit(
        "fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"prompt": "input", "duration": "5"}
    )
    video = await gateway.result(submitted.endpoint_id, submitted.request_id)
    video_file = await download(gateway, video["video"]["url"])
    video_url = await gateway.upload(video_file.data, "video/webm", "input.webm")
    return image_url, video_url, audio_url


async def download(gateway: FalGateway, url: str) -> DownloadedFile:
    return await gateway.download_media(url, max_bytes=50_000_000, allowed_content_types=MEDIA_TYPES)


async def run_case(gateway: FalGateway, endpoint_id: str, case: Case) -> dict[str, Any]:
    submitted = await gateway.submit(endpoint_id, case.arguments)
    return await gateway.result(endpoint_id, submitted.request_id)


def open_image(file: DownloadedFile) -> Image.Image:
    image = Image.open(io.BytesIO(file.data))
    image.load()
    return image


def video_facts(file: DownloadedFile) -> tuple[str, int, bool, float]:
    """Return (container format, decoded video frames, has an audio stream, container seconds)."""
    with av.open(io.BytesIO(file.data), mode="r") as container:
        frames = sum(1 for _ in container.decode(video=0))
        has_audio = bool(container.streams.audio)
        seconds = container.duration / 1_000_000 if container.duration else 0.0
        return container.format.name, frames, has_audio, seconds


def wav_seconds(file: DownloadedFile) -> float:
    with wave.open(io.BytesIO(file.data), "rb") as reader:
        return float(reader.getnframes()) / reader.getframerate()


def test_cases_cover_catalog() -> None:
    cases = build_cases("data:,", "data:,", "data:,")

    assert set(cases) == set(ENDPOINTS)


@pytest.mark.asyncio
async def test_every_endpoint_returns_decodable_files(gateway: FalGateway) -> None:
    cases = build_cases(*await upload_inputs(gateway))
    outputs = await asyncio.gather(*(run_case(gateway, endpoint_id, case) for endpoint_id, case in cases.items()))

    for (endpoint_id, case), output in zip(cases.items(), outputs, strict=True):
        await check_output(gateway, endpoint_id, case, output)


async def check_output(gateway: FalGateway, endpoint_id: str, case: Case, output: dict[str, Any]) -> None:
    required = [item["name"] for item in ENDPOINTS[endpoint_id]["output_fields"] if item["required"]]
    missing = [name for name in required if name not in output]
    assert missing == [], f"{endpoint_id} lacks required output fields {missing}"

    images = output.get("images") or ([output["image"]] if "image" in output else [])
    if case.image_count is not None:
        assert len(images) == case.image_count, endpoint_id
    for image_object in images:
        image = open_image(await download(gateway, image_object["url"]))
        if case.image_size is not None:
            assert image.size == case.image_size, endpoint_id
        if case.ratio is not None:
            assert abs(image.width / image.height - case.ratio) < 0.05, endpoint_id
        if case.image_mode is not None:
            assert image.mode == case.image_mode, endpoint_id
        if "width" in image_object:
            assert (image_object["width"], image_object["height"]) == image.size, endpoint_id
        assert image_object["file_size"] > 0, endpoint_id

    if case.extra_checks.get("mask_image"):
        mask = open_image(await download(gateway, output["mask_image"]["url"]))
        assert mask.size == case.image_size, endpoint_id

    if case.video_seconds is not None:
        video_file = await download(gateway, output["video"]["url"])
        container_format, frames, has_audio, seconds = video_facts(video_file)
        assert "webm" in container_format, endpoint_id
        assert video_file.data[:4] == b"\x1a\x45\xdf\xa3", endpoint_id
        assert frames == round(case.video_seconds * 8), endpoint_id
        assert abs(seconds - case.video_seconds) < 0.2, endpoint_id
        assert has_audio is case.video_has_audio, endpoint_id
        assert output["video"]["content_type"] == "video/webm", endpoint_id

    audio_object = output.get("audio") or output.get("audio_file")
    if case.audio_seconds is not None or case.audio_range is not None:
        assert audio_object is not None, endpoint_id
        audio_file = await download(gateway, audio_object["url"])
        assert audio_file.data[:4] == b"RIFF", endpoint_id
        assert audio_file.data[8:12] == b"WAVE", endpoint_id
        seconds = wav_seconds(audio_file)
        if case.audio_seconds is not None:
            assert abs(seconds - case.audio_seconds) < 0.05, endpoint_id
        if case.audio_range is not None:
            assert case.audio_range[0] <= seconds <= case.audio_range[1], (endpoint_id, seconds)

    for name in case.text_fields:
        assert isinstance(output[name], str) and output[name], endpoint_id
