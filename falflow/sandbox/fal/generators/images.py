"""Text-to-image and image-edit endpoints: seeded pictures with the prompt and a SANDBOX label drawn on."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from falflow.sandbox.fal.generators.context import GenerationContext
from falflow.sandbox.fal.generators.drawing import draw_caption, draw_label, encode_image, paint_background
from falflow.sandbox.fal.generators.media_inputs import load_image
from falflow.sandbox.fal.generators.sizes import aspect_ratio_size, image_size, parse_ratio


class ImageShape(enum.StrEnum):
    """fal's output object for one image: Image has width and height, File does not."""

    IMAGE = "image"
    FILE = "file"


class Extra(enum.StrEnum):
    """Output fields next to ``images`` that some endpoints return."""

    SEED = "seed"
    PROMPT = "prompt"
    NSFW = "has_nsfw_concepts"
    TIMINGS = "timings"
    DESCRIPTION = "description"


_FLUX_EXTRAS = frozenset({Extra.SEED, Extra.PROMPT, Extra.NSFW, Extra.TIMINGS})
_MAX_EDIT_SIDE = 2048


@dataclass(frozen=True)
class ImageEndpoint:
    """How one endpoint names its size, format and edit inputs, and which output fields it returns.

    ``size_param`` names an ImageSize input. Endpoints without one take the size from ``aspect_ratio``
    (about one megapixel), or from the edited image when the ratio is 'auto' or absent.
    """

    size_param: str | None = "image_size"
    default_size: str = "landscape_4_3"
    format_param: str | None = "output_format"
    default_format: str = "jpeg"
    shape: ImageShape = ImageShape.IMAGE
    extras: frozenset[Extra] = field(default_factory=frozenset)
    edit_input: str | None = None


IMAGE_ENDPOINTS: dict[str, ImageEndpoint] = {
    "fal-ai/flux/schnell": ImageEndpoint(extras=_FLUX_EXTRAS),
    "fal-ai/flux/dev": ImageEndpoint(extras=_FLUX_EXTRAS),
    "fal-ai/flux-pro/v1.1-ultra": ImageEndpoint(size_param=None, extras=_FLUX_EXTRAS),
    "fal-ai/fast-sdxl": ImageEndpoint(default_size="square_hd", format_param="format", extras=_FLUX_EXTRAS),
    "fal-ai/recraft/v3/text-to-image": ImageEndpoint(
        default_size="square_hd", format_param=None, default_format="png", shape=ImageShape.FILE
    ),
    "fal-ai/ideogram/v3": ImageEndpoint(
        default_size="square_hd",
        format_param=None,
        default_format="png",
        shape=ImageShape.FILE,
        extras=frozenset({Extra.SEED}),
    ),
    "fal-ai/nano-banana": ImageEndpoint(size_param=None, default_format="png", extras=frozenset({Extra.DESCRIPTION})),
    "fal-ai/nano-banana/edit": ImageEndpoint(
        size_param=None, default_format="png", extras=frozenset({Extra.DESCRIPTION}), edit_input="image_urls"
    ),
    "fal-ai/flux-pro/kontext": ImageEndpoint(size_param=None, extras=_FLUX_EXTRAS, edit_input="image_url"),
}


def generate_images(ctx: GenerationContext, spec: ImageEndpoint) -> dict[str, Any]:
    """Return fal's output for a text-to-image or edit call: ``images`` plus the endpoint's extra fields."""
    prompt = ctx.text("prompt")
    image_format = ctx.text(spec.format_param, spec.default_format) if spec.format_param else spec.default_format
    source = _edit_source(ctx, spec)
    size = _output_size(ctx, spec, source)
    count = int(ctx.number("num_images", 1))

    images = []
    for index in range(count):
        rng = ctx.rng("image", index)
        if source is None:
            picture = paint_background(size, rng)
        else:
            picture = _tinted(source, size, rng.randrange(256))
        draw_caption(picture, prompt)
        draw_label(picture, footer=f"{ctx.endpoint_id} seed {ctx.seed + index}")
        data, content_type, extension = encode_image(picture, image_format, prompt=prompt)
        stored = ctx.save(data, content_type, extension)
        if spec.shape is ImageShape.IMAGE:
            stored = {**stored, "width": size[0], "height": size[1]}
        images.append(stored)

    output: dict[str, Any] = {"images": images}
    if Extra.SEED in spec.extras:
        output["seed"] = ctx.seed
    if Extra.PROMPT in spec.extras:
        output["prompt"] = prompt
    if Extra.NSFW in spec.extras:
        output["has_nsfw_concepts"] = [False] * count
    if Extra.TIMINGS in spec.extras:
        output["timings"] = {"inference": ctx.run_seconds}
    if Extra.DESCRIPTION in spec.extras:
        output["description"] = f"Sandbox image for the prompt: {prompt}"
    return output


def _edit_source(ctx: GenerationContext, spec: ImageEndpoint) -> Image.Image | None:
    if spec.edit_input is None:
        return None
    value = ctx.arguments.get(spec.edit_input)
    if isinstance(value, list):
        return load_image(ctx, [spec.edit_input, 0], str(value[0])).convert("RGB")
    return load_image(ctx, spec.edit_input, str(value)).convert("RGB")


def _output_size(ctx: GenerationContext, spec: ImageEndpoint, source: Image.Image | None) -> tuple[int, int]:
    if spec.size_param is not None:
        return image_size(ctx.arguments.get(spec.size_param), spec.default_size)
    ratio = ctx.text("aspect_ratio", "auto")
    if parse_ratio(ratio) is None and source is not None:
        scale = min(1.0, _MAX_EDIT_SIDE / max(source.size))
        return max(1, round(source.width * scale)), max(1, round(source.height * scale))
    return aspect_ratio_size(ratio if parse_ratio(ratio) else "1:1")


def _tinted(source: Image.Image, size: tuple[int, int], hue: int) -> Image.Image:
    """Return the source resized to ``size`` and blended with a seeded colour, a visible 'edit'."""
    resized = source.resize(size, Image.Resampling.BILINEAR)
    overlay = Image.new("RGB", size, (hue, 255 - hue, (hue * 7) % 256))
    return Image.blend(resized, overlay, 0.25)
