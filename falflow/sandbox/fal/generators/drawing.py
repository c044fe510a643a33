"""Pillow drawing and encoding shared by the image and video generators.

Every picture carries a visible "SANDBOX" label, so a sandbox output is never mistaken for a model's.
Encoders use fast settings (JPEG quality 85, PNG compression level 1, WebP method 0), which
keeps a 1024x768 image well under 100 ms. The prompt is also embedded as metadata (a PNG text chunk or a
JPEG comment), so the sandbox caption endpoints can describe images that the sandbox generated.
"""

from __future__ import annotations

import io
import random
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

SANDBOX_LABEL = "SANDBOX"
PROMPT_METADATA_KEY = "falflow-sandbox-prompt"

_FORMATS: dict[str, tuple[str, str, str]] = {
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "webp": ("WEBP", "image/webp", "webp"),
    "gif": ("GIF", "image/gif", "gif"),
}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=64)
def font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def random_color(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def paint_background(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Paint a two-colour gradient with a few shapes, all chosen by ``rng``."""
    width, height = size
    start, end = random_color(rng), random_color(rng)
    ramp = Image.linear_gradient("L")
    if rng.random() < 0.5:
        ramp = ramp.transpose(Image.Transpose.ROTATE_90)
    ramp = ramp.resize(size)
    channels = [ramp.point(_channel_table(low, high)) for low, high in zip(start, end, strict=True)]
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(6, 14)):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(max(2, min(width, height) // 16), max(3, min(width, height) // 4))
        box = (x - radius, y - radius, x + radius, y + radius)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=random_color(rng))
        else:
            draw.rectangle(box, fill=random_color(rng))
    return image


def draw_caption(image: Image.Image, text: str, *, max_lines: int = 5) -> None:
    """Draw ``text`` wrapped in a dark box across the lower half of the image."""
    width, height = image.size
    size = max(10, min(width, height) // 16)
    chars_per_line = max(8, int(width * 0.9 / (size * 0.55)))
    lines = textwrap.wrap(text, chars_per_line)[:max_lines] or [""]
    block = "\n".join(lines)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), block, font=font(size), spacing=size // 4)
    x = (width - (right - left)) // 2
    y = height - (bottom - top) - max(size, height // 10)
    padding = size // 2
    draw.rectangle((x - padding, y - padding, x + right - left + padding, y + bottom - top + padding), fill=(0, 0, 0))
    draw.multiline_text((x - left, y - top), block, font=font(size), fill=(255, 255, 255), spacing=size // 4)


def draw_label(image: Image.Image, footer: str | None = None) -> None:
    """Draw the yellow SANDBOX label at the top left and an optional small footer at the bottom left."""
    width, height = image.size
    size = max(9, min(width, height) // 12)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), SANDBOX_LABEL, font=font(size))
    margin = max(2, size // 3)
    fill = (255, 214, 0, 255) if image.mode == "RGBA" else (255, 214, 0)
    draw.rectangle((margin, margin, margin * 3 + right - left, margin * 3 + bottom - top), fill=fill)
    draw.text((margin * 2 - left, margin * 2 - top), SANDBOX_LABEL, font=font(size), fill=(0, 0, 0))
    if footer:
        small = max(8, size // 2)
        draw.text((margin, height - small - margin), footer, font=font(small), fill=(255, 255, 255))


def encode_image(image: Image.Image, image_format: str, *, prompt: str | None = None) -> tuple[bytes, str, str]:
    """Encode an image and return (bytes, content type, file extension); ``prompt`` goes into metadata."""
    pil_format, content_type, extension = _FORMATS[image_format]
    buffer = io.BytesIO()
    if pil_format == "JPEG":
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        comment = f"{PROMPT_METADATA_KEY}:{prompt}".encode() if prompt else b""
        rgb.save(buffer, "JPEG", quality=85, comment=comment)
    elif pil_format == "PNG":
        info = PngImagePlugin.PngInfo()
        if prompt:
            info.add_itxt(PROMPT_METADATA_KEY, prompt)
        image.save(buffer, "PNG", compress_level=1, pnginfo=info)
    elif pil_format == "WEBP":
        image.save(buffer, "WEBP", quality=80, method=0)
    else:
        _to_gif_frame(image).save(buffer, "GIF")
    return buffer.getvalue(), content_type, extension


def read_prompt(image: Image.Image) -> str | None:
    """Return the prompt that ``encode_image`` embedded, if any."""
    text_chunks = getattr(image, "text", None)
    if isinstance(text_chunks, dict) and PROMPT_METADATA_KEY in text_chunks:
        return str(text_chunks[PROMPT_METADATA_KEY])
    comment = image.info.get("comment")
    if isinstance(comment, bytes):
        decoded = comment.decode("utf-8", errors="replace")
        if decoded.startswith(f"{PROMPT_METADATA_KEY}:"):
            return decoded.removeprefix(f"{PROMPT_METADATA_KEY}:")
    return None


def _to_gif_frame(image: Image.Image) -> Image.Image:
    if image.mode != "RGBA":
        return image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    alpha = image.getchannel("A")
    paletted = image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=255)
    transparent = alpha.point(lambda value: 255 if value < 128 else 0)
    paletted.paste(255, mask=transparent)
    paletted.info["transparency"] = 255
    return paletted


def _channel_table(low: int, high: int) -> list[int]:
    return [low + (high - low) * value // 255 for value in range(256)]
