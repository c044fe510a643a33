"""Output sizes: fal's image size presets, aspect ratios and the small video frame sizes of the sandbox."""

from __future__ import annotations

import math
from typing import Any

# fal's ImageSize presets as (width, height) in pixels.
IMAGE_SIZE_PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}

# Sandbox videos keep the longer side at this many pixels so that encoding stays fast.
VIDEO_LONG_SIDE = 256
VIDEO_FPS = 8

_ONE_MEGAPIXEL = 1024 * 1024


def image_size(value: Any, default: str) -> tuple[int, int]:
    """Return (width, height) for a validated ``image_size`` input: a preset name or {width, height}."""
    if isinstance(value, dict):
        return int(value["width"]), int(value["height"])
    if isinstance(value, str) and value in IMAGE_SIZE_PRESETS:
        return IMAGE_SIZE_PRESETS[value]
    return IMAGE_SIZE_PRESETS[default]


def parse_ratio(ratio: str) -> tuple[int, int] | None:
    """Return (w, h) for ratios like '16:9'; None for 'auto' or anything else."""
    left, _, right = ratio.partition(":")
    if left.isdigit() and right.isdigit() and int(left) > 0 and int(right) > 0:
        return int(left), int(right)
    return None


def aspect_ratio_size(ratio: str, *, area: int = _ONE_MEGAPIXEL, multiple: int = 32) -> tuple[int, int]:
    """Return a size of about ``area`` pixels with the given aspect ratio, sides rounded to ``multiple``."""
    parsed = parse_ratio(ratio) or (1, 1)
    width = math.sqrt(area * parsed[0] / parsed[1])
    height = width * parsed[1] / parsed[0]
    return _round_to(width, multiple), _round_to(height, multiple)


def video_frame_size(ratio: tuple[int, int]) -> tuple[int, int]:
    """Return an even-sided frame size whose longer side is ``VIDEO_LONG_SIDE``."""
    width_ratio, height_ratio = ratio
    if width_ratio >= height_ratio:
        return VIDEO_LONG_SIDE, _round_to(VIDEO_LONG_SIDE * height_ratio / width_ratio, 2)
    return _round_to(VIDEO_LONG_SIDE * width_ratio / height_ratio, 2), VIDEO_LONG_SIDE


def parse_duration(value: Any, default: float) -> float:
    """Return seconds for fal's duration inputs: 5, '5' or '5s'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip().removesuffix("s")
        try:
            return float(text)
        except ValueError:
            return default
    return default


def _round_to(value: float, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)
