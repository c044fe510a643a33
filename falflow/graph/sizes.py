"""Image sizes: fal's `image_size` presets and megapixel counting for prices."""

from __future__ import annotations

import math

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

# NOTE: fal's price pages state "per megapixel" without defining the divisor. We use
# 2**20 pixels, so fal's 1024x1024 `square_hd` preset counts as one megapixel; with
# 10**6 the same image would round up to two.
PIXELS_PER_MEGAPIXEL = 1024 * 1024


@dataclass(frozen=True)
class ImageSize:
    """Width and height in pixels."""

    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


# fal's named sizes for the `image_size` input of its text-to-image endpoints.
IMAGE_SIZE_PRESETS: dict[str, ImageSize] = {
    "square_hd": ImageSize(1024, 1024),
    "square": ImageSize(512, 512),
    "portrait_4_3": ImageSize(768, 1024),
    "portrait_16_9": ImageSize(576, 1024),
    "landscape_4_3": ImageSize(1024, 768),
    "landscape_16_9": ImageSize(1024, 576),
}


def parse_image_size(value: Any) -> ImageSize | None:
    """Read a preset name or a `{width, height}` object; return None if it is neither."""
    if isinstance(value, str):
        return IMAGE_SIZE_PRESETS.get(value)
    if isinstance(value, dict):
        width = _positive_int(value.get("width"))
        height = _positive_int(value.get("height"))
        if width is not None and height is not None:
            return ImageSize(width, height)
    return None


# The largest image side falflow accepts; fal's own models stay far below it.
MAX_IMAGE_SIDE = 16_384


def _positive_int(value: Any) -> int | None:
    """Return a whole number from 1 to MAX_IMAGE_SIDE (2 or 2.0) as int, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if 0 < value <= MAX_IMAGE_SIDE else None


def billed_megapixels(pixels: Decimal | int) -> int:
    """Return whole megapixels for one image, rounded up as fal bills them."""
    megapixels = Decimal(pixels) / PIXELS_PER_MEGAPIXEL
    return int(megapixels.to_integral_value(rounding=ROUND_CEILING))


def scaled_pixels(size: ImageSize, factor: Decimal) -> Decimal:
    """Return the pixel count of `size` after scaling both sides by `factor`."""
    return Decimal(size.pixels) * factor * factor
