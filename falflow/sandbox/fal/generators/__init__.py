"""Deterministic outputs for every catalog endpoint, keyed by endpoint id.

A generator receives a ``GenerationContext`` and returns the endpoint's output JSON in fal's shape, with
file URLs pointing at the stand-in. Identical endpoint, inputs and seed give identical bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from falflow.sandbox.fal.generators.audio_endpoints import (
    elevenlabs_speech_to_text,
    lyria,
    stable_audio,
    text_to_speech,
    wizper,
)
from falflow.sandbox.fal.generators.context import GenerationContext, GenerationError, derive_seed
from falflow.sandbox.fal.generators.images import IMAGE_ENDPOINTS, generate_images
from falflow.sandbox.fal.generators.text import chat, chat_vision
from falflow.sandbox.fal.generators.transforms import caption, extract_frame, remove_background, upscale
from falflow.sandbox.fal.generators.video import VIDEO_ENDPOINTS, add_soundtrack, generate_video

Generator = Callable[[GenerationContext], dict[str, Any]]

GENERATORS: dict[str, Generator] = {
    **{endpoint_id: partial(generate_images, spec=spec) for endpoint_id, spec in IMAGE_ENDPOINTS.items()},
    **{endpoint_id: partial(generate_video, spec=spec) for endpoint_id, spec in VIDEO_ENDPOINTS.items()},
    "fal-ai/clarity-upscaler": partial(upscale, factor_param="upscale_factor", with_seed=True, with_timings=True),
    "fal-ai/esrgan": partial(upscale, factor_param="scale", format_param="output_format"),
    "fal-ai/codeformer": partial(upscale, factor_param="upscale_factor", with_seed=True),
    "fal-ai/bria/background/remove": partial(remove_background, format_param=None),
    "fal-ai/birefnet/v2": partial(remove_background, format_param="output_format"),
    "fal-ai/florence-2-large/detailed-caption": caption,
    "fal-ai/ffmpeg-api/extract-frame": extract_frame,
    "fal-ai/elevenlabs/tts/multilingual-v2": partial(text_to_speech, text_param="text"),
    "fal-ai/minimax/speech-02-hd": partial(text_to_speech, text_param="text", with_duration_ms=True),
    "fal-ai/kokoro/american-english": partial(text_to_speech, text_param="prompt"),
    "fal-ai/wizper": wizper,
    "fal-ai/elevenlabs/speech-to-text": elevenlabs_speech_to_text,
    "openrouter/router": chat,
    "openrouter/router/vision": chat_vision,
    "fal-ai/stable-audio": stable_audio,
    "fal-ai/mmaudio-v2": add_soundtrack,
    "fal-ai/lyria2": lyria,
}


def choose_seed(endpoint_id: str, arguments: dict[str, Any]) -> int:
    """Return the seed input if given, else one derived from the endpoint and inputs.

    fal picks a random seed when none is given. The sandbox derives it instead, so repeated identical
    requests give identical files.
    """
    seed = arguments.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    if isinstance(seed, float) and seed.is_integer():
        return int(seed)
    return derive_seed(endpoint_id, {key: value for key, value in arguments.items() if key != "sync_mode"})


def generate_output(ctx: GenerationContext) -> dict[str, Any]:
    """Run the generator of ``ctx.endpoint_id``; raises ``GenerationError`` for model-side failures."""
    return GENERATORS[ctx.endpoint_id](ctx)


__all__ = ["GENERATORS", "GenerationContext", "GenerationError", "choose_seed", "generate_output"]
