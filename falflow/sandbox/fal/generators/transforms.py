"""Endpoints that transform an input image or video: upscalers, background removal, captions, frames."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageChops, ImageFilter, ImageStat

from falflow.sandbox.fal.generators.context import GenerationContext, input_error
from falflow.sandbox.fal.generators.drawing import draw_label, encode_image, read_prompt
from falflow.sandbox.fal.generators.media_inputs import MAX_OUTPUT_SIDE, load_image, load_video_frames

# Colour distance (0-255, max over channels) above which a pixel counts as foreground.
_FOREGROUND_THRESHOLD = 40


def upscale(
    ctx: GenerationContext,
    *,
    factor_param: str,
    format_param: str | None = None,
    with_seed: bool = False,
    with_timings: bool = False,
) -> dict[str, Any]:
    """Resize the input image by the factor input and return fal's ``image`` output."""
    source = load_image(ctx, "image_url", ctx.text("image_url"))
    factor = ctx.number(factor_param, 2.0)
    width, height = round(source.width * factor), round(source.height * factor)
    if max(width, height) > MAX_OUTPUT_SIDE:
        raise input_error(
            "image_url",
            f"Upscaling {source.width}x{source.height} by {factor:g} gives {width}x{height}; the sandbox "
            f"returns at most {MAX_OUTPUT_SIDE} pixels per side. Use a smaller image or factor.",
            "image_too_large",
        )
    has_alpha = source.mode in {"RGBA", "LA"} or "transparency" in source.info
    picture = source.convert("RGBA" if has_alpha else "RGB").resize((width, height), Image.Resampling.BICUBIC)
    draw_label(picture)
    image_format = ctx.text(format_param, "png") if format_param else "png"
    data, content_type, extension = encode_image(picture, image_format, prompt=read_prompt(source))
    output: dict[str, Any] = {"image": {**ctx.save(data, content_type, extension), "width": width, "height": height}}
    if with_seed:
        output["seed"] = ctx.seed
    if with_timings:
        output["timings"] = {"inference": ctx.run_seconds}
    return output


def remove_background(ctx: GenerationContext, *, format_param: str | None) -> dict[str, Any]:
    """Make the input's background transparent and return fal's ``image`` (and optional ``mask_image``).

    The background is the average colour of the image border; pixels close to it become transparent.
    """
    source = load_image(ctx, "image_url", ctx.text("image_url")).convert("RGB")
    mask = _foreground_mask(source)
    cutout = source.convert("RGBA")
    cutout.putalpha(mask)
    draw_label(cutout)
    image_format = ctx.text(format_param, "png") if format_param else "png"
    prompt = read_prompt(source)

    main_image = mask.convert("RGBA") if ctx.flag("mask_only") else cutout
    data, content_type, extension = encode_image(main_image, image_format, prompt=prompt)
    output: dict[str, Any] = {
        "image": {**ctx.save(data, content_type, extension), "width": source.width, "height": source.height}
    }
    if ctx.flag("output_mask"):
        mask_data, mask_type, mask_extension = encode_image(mask, "png")
        output["mask_image"] = {
            **ctx.save(mask_data, mask_type, mask_extension),
            "width": source.width,
            "height": source.height,
        }
    return output


def caption(ctx: GenerationContext) -> dict[str, Any]:
    """Describe the input image deterministically; images made by the sandbox are described by their prompt."""
    source = load_image(ctx, "image_url", ctx.text("image_url"))
    return {"results": describe_image(source)}


def describe_image(image: Image.Image) -> str:
    """Return a sandbox description: size, dominant colour, brightness and the embedded prompt if present."""
    rgb = image.convert("RGB")
    mean = ImageStat.Stat(rgb.resize((32, 32))).mean
    brightness = sum(mean) / 3
    if brightness > 170:
        tone = "bright"
    elif brightness < 85:
        tone = "dark"
    else:
        tone = "mid-toned"
    channel = ("red", "green", "blue")[max(range(3), key=lambda index: mean[index])]
    text = (
        f"A {tone} {image.width}x{image.height} image in which {channel} dominates "
        "(sandbox caption, no vision model ran)."
    )
    prompt = read_prompt(image)
    if prompt:
        text += f" It was generated for the prompt: {prompt}"
    return text


def extract_frame(ctx: GenerationContext) -> dict[str, Any]:
    """Return the first, middle or last frame of the input video as a PNG in fal's ``images`` list."""
    frames, _ = load_video_frames(ctx, "video_url", ctx.text("video_url"), max_side=4096)
    position = ctx.text("frame_type", "first")
    index = {"first": 0, "middle": len(frames) // 2, "last": len(frames) - 1}.get(position, 0)
    frame = frames[index].convert("RGB")
    data, content_type, extension = encode_image(frame, "png")
    return {"images": [{**ctx.save(data, content_type, extension), "width": frame.width, "height": frame.height}]}


def _foreground_mask(image: Image.Image) -> Image.Image:
    width, height = image.size
    border = [
        image.crop((0, 0, width, 1)),
        image.crop((0, height - 1, width, height)),
        image.crop((0, 0, 1, height)),
        image.crop((width - 1, 0, width, height)),
    ]
    totals = [0.0, 0.0, 0.0]
    for strip in border:
        for index, value in enumerate(ImageStat.Stat(strip).mean):
            totals[index] += value / len(border)
    background = Image.new("RGB", image.size, tuple(int(value) for value in totals))
    difference = ImageChops.difference(image, background)
    channels = difference.split()
    distance = ImageChops.lighter(ImageChops.lighter(channels[0], channels[1]), channels[2])
    mask = distance.point(lambda value: 255 if value > _FOREGROUND_THRESHOLD else 0)
    return mask.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.GaussianBlur(1))
