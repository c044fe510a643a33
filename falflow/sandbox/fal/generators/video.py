"""Video endpoints: short WebM clips (VP8, optional Opus soundtrack) that Chromium plays.

Frames are small (longer side 256 px at 8 fps) to keep encoding fast. Encoding is single-threaded, with
FFmpeg's bitexact flags and libvpx's "good" deadline, so identical inputs give identical bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import av
from PIL import Image, ImageDraw

from falflow.sandbox.fal.generators.audio import music_pcm
from falflow.sandbox.fal.generators.context import GenerationContext
from falflow.sandbox.fal.generators.drawing import draw_caption, draw_label, paint_background
from falflow.sandbox.fal.generators.media_inputs import load_image, load_video_frames
from falflow.sandbox.fal.generators.sizes import (
    VIDEO_FPS,
    VIDEO_LONG_SIDE,
    parse_duration,
    parse_ratio,
    video_frame_size,
)

# Opus in WebM runs at 48 kHz and encodes 20 ms frames.
_AUDIO_SAMPLE_RATE = 48_000
_OPUS_FRAME_SAMPLES = 960
_VIDEO_BIT_RATE = 400_000


@dataclass(frozen=True)
class VideoEndpoint:
    """Input names and defaults of one video endpoint.

    ``frames_param`` marks endpoints that take ``num_frames`` and ``frames_per_second`` instead of a
    duration. ``audio_param`` names a boolean input that turns the soundtrack on.
    """

    default_seconds: float = 5.0
    image_input: str | None = None
    audio_param: str | None = None
    frames_param: bool = False
    extras: frozenset[str] = field(default_factory=frozenset)


VIDEO_ENDPOINTS: dict[str, VideoEndpoint] = {
    "fal-ai/kling-video/v2.1/standard/image-to-video": VideoEndpoint(image_input="image_url"),
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video": VideoEndpoint(),
    "fal-ai/minimax/hailuo-02/standard/image-to-video": VideoEndpoint(default_seconds=6.0, image_input="image_url"),
    "fal-ai/luma-dream-machine/ray-2": VideoEndpoint(),
    "fal-ai/wan/v2.2-a14b/text-to-video": VideoEndpoint(frames_param=True, extras=frozenset({"seed", "prompt"})),
    "fal-ai/veo3.1": VideoEndpoint(default_seconds=8.0, audio_param="generate_audio"),
    "fal-ai/veo3.1/fast/image-to-video": VideoEndpoint(
        default_seconds=8.0, image_input="image_url", audio_param="generate_audio"
    ),
}


def generate_video(ctx: GenerationContext, spec: VideoEndpoint) -> dict[str, Any]:
    """Return fal's ``video`` output for a text-to-video or image-to-video call."""
    seconds = _requested_seconds(ctx, spec)
    source = load_image(ctx, spec.image_input, ctx.text(spec.image_input)).convert("RGB") if spec.image_input else None
    size = video_frame_size(_frame_ratio(ctx, source))
    prompt = ctx.text("prompt")
    frames = _render_frames(ctx, size, seconds, prompt, source)
    soundtrack = None
    if spec.audio_param is not None and ctx.flag(spec.audio_param, True):
        soundtrack = music_pcm(seconds, ctx.seed, sample_rate=_AUDIO_SAMPLE_RATE)
    data = encode_webm(frames, size, soundtrack)
    output: dict[str, Any] = {"video": ctx.save(data, "video/webm", "webm")}
    if "seed" in spec.extras:
        output["seed"] = ctx.seed
    if "prompt" in spec.extras:
        output["prompt"] = prompt
    return output


def add_soundtrack(ctx: GenerationContext) -> dict[str, Any]:
    """MMAudio: return the input video, re-encoded to ``duration`` seconds, with a generated soundtrack."""
    frames, source_seconds = load_video_frames(ctx, "video_url", ctx.text("video_url"), max_side=VIDEO_LONG_SIDE)
    seconds = ctx.number("duration", 8.0)
    width, height = frames[0].size
    size = (max(2, width - width % 2), max(2, height - height % 2))
    source_fps = len(frames) / source_seconds if source_seconds > 0 else VIDEO_FPS
    total = max(1, round(seconds * VIDEO_FPS))
    picked = (frames[int(index / VIDEO_FPS * source_fps) % len(frames)] for index in range(total))
    resized = (frame.convert("RGB").resize(size) for frame in picked)
    soundtrack = music_pcm(seconds, ctx.seed, sample_rate=_AUDIO_SAMPLE_RATE)
    data = encode_webm(resized, size, soundtrack)
    return {"video": ctx.save(data, "video/webm", "webm")}


def encode_webm(frames: Iterable[Image.Image], size: tuple[int, int], soundtrack: bytes | None) -> bytes:
    """Encode RGB frames at ``VIDEO_FPS`` and optional 16-bit mono PCM at 48 kHz into WebM bytes."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm", options={"fflags": "+bitexact"}) as container:
        video = container.add_stream("libvpx", rate=VIDEO_FPS)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.bit_rate = _VIDEO_BIT_RATE
        # The realtime deadline adapts to elapsed time and breaks determinism under load; "good" at the
        # fastest speed (cpu-used 16) does not.
        video.options = {"threads": "1", "deadline": "good", "cpu-used": "16"}
        video.codec_context.flags |= av.codec.context.Flags.bitexact
        audio = None
        if soundtrack is not None:
            audio = container.add_stream("libopus", rate=_AUDIO_SAMPLE_RATE)
            audio.layout = "mono"
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]  # unannotated in PyAV 18
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None and soundtrack is not None:
            _encode_audio(container, audio, soundtrack)
    return buffer.getvalue()


def _encode_audio(container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, pcm: bytes) -> None:
    frame_bytes = _OPUS_FRAME_SAMPLES * 2
    padded = pcm + b"\x00" * (-len(pcm) % frame_bytes)
    for offset in range(0, len(padded), frame_bytes):
        frame = av.AudioFrame(format="s16", layout="mono", samples=_OPUS_FRAME_SAMPLES)
        frame.planes[0].update(padded[offset : offset + frame_bytes])
        frame.sample_rate = _AUDIO_SAMPLE_RATE
        frame.pts = offset // 2
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _requested_seconds(ctx: GenerationContext, spec: VideoEndpoint) -> float:
    if spec.frames_param:
        return ctx.number("num_frames", 81) / max(1.0, ctx.number("frames_per_second", 16))
    return parse_duration(ctx.arguments.get("duration"), spec.default_seconds)


def _frame_ratio(ctx: GenerationContext, source: Image.Image | None) -> tuple[int, int]:
    ratio = parse_ratio(ctx.text("aspect_ratio", "auto"))
    if ratio is not None:
        return ratio
    if source is not None:
        return source.width, source.height
    return 16, 9


def _render_frames(
    ctx: GenerationContext,
    size: tuple[int, int],
    seconds: float,
    prompt: str,
    source: Image.Image | None,
) -> list[Image.Image]:
    """Render a slow pan over a seeded scene (or a slow zoom into the input image) with labels."""
    width, height = size
    total = max(1, round(seconds * VIDEO_FPS))
    if source is None:
        scene = paint_background((width * 2, height), ctx.rng("video"))
    else:
        scene = source.resize((width * 2, height * 2), Image.Resampling.BILINEAR)
    draw_caption(scene, prompt, max_lines=2)
    frames = []
    for index in range(total):
        progress = index / max(1, total - 1)
        if source is None:
            left = round(progress * width)
            box = (left, 0, left + width, height)
        else:
            inset_x, inset_y = round(progress * width / 2), round(progress * height / 2)
            box = (inset_x, inset_y, width * 2 - inset_x, height * 2 - inset_y)
        frame = scene.resize(size, Image.Resampling.BILINEAR, box=box)
        draw_label(frame, footer=f"{index / VIDEO_FPS:.1f}s")
        ImageDraw.Draw(frame).rectangle((0, height - 3, round(width * progress), height), fill=(255, 214, 0))
        frames.append(frame)
    return frames
