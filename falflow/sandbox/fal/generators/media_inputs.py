"""Decoding of input media (images, videos, audio) with fal's error types for unreadable files."""

from __future__ import annotations

import io
import wave

import av
from PIL import Image, UnidentifiedImageError

from falflow.sandbox.fal.generators.context import GenerationContext, input_error

# Larger inputs would make sandbox generation slow; fal reports such inputs as image_too_large.
MAX_INPUT_PIXELS = 4096 * 4096
MAX_OUTPUT_SIDE = 4096


def load_image(ctx: GenerationContext, field: str | list[str | int], url: str) -> Image.Image:
    """Return the decoded input image, or raise fal's ``image_load_error`` / ``image_too_large``."""
    data = ctx.load_input(field, url).data
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise input_error(field, f"Failed to load the image: {exc}", "image_load_error") from exc
    if image.width * image.height > MAX_INPUT_PIXELS:
        raise input_error(
            field,
            f"Image of {image.width}x{image.height} pixels is too large; the sandbox accepts up to "
            f"{MAX_INPUT_PIXELS} pixels",
            "image_too_large",
        )
    return image


def load_video_frames(
    ctx: GenerationContext, field: str, url: str, *, max_side: int
) -> tuple[list[Image.Image], float]:
    """Return the decoded frames (scaled so the longer side is at most ``max_side``) and the duration in s."""
    data = ctx.load_input(field, url).data
    frames: list[Image.Image] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                image = frame.to_image()  # type: ignore[no-untyped-call]  # unannotated in PyAV 18
                image.thumbnail((max_side, max_side))
                frames.append(image)
            duration = _container_seconds(container, stream)
    except (av.FFmpegError, IndexError, ValueError) as exc:
        raise input_error(field, f"Failed to decode the video: {exc}", "video_load_error") from exc
    if not frames:
        raise input_error(field, "The video has no frames", "video_load_error")
    return frames, duration


def audio_seconds(data: bytes) -> float:
    """Return the duration of WAV, or of any container FFmpeg reads; 0.0 when it cannot be determined."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            return float(reader.getnframes()) / float(reader.getframerate())
    except (wave.Error, EOFError):
        pass
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            return container.duration / 1_000_000 if container.duration else 0.0
    except (av.FFmpegError, ValueError):
        return 0.0


def _container_seconds(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0
