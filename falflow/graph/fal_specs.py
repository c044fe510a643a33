"""Build `NodeSpec`s from the bundled fal catalog JSON.

The catalog (catalog_data/fal_catalog.json) lists each endpoint's inputs, outputs and
price with its source. Its input types are flattened TypeScript types (every
numeric field is `number`), so this module restores integers, ranges and ports.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from falflow.graph.ports import PortType, ValueKind
from falflow.graph.pricing import (
    FALLBACK_USD_PER_REQUEST,
    FALLBACK_USD_PER_VIDEO_REQUEST,
    FallbackPrice,
    PerImagePrice,
    PerMegapixelPrice,
    PerRequestPrice,
    PerSecondPrice,
    PerThousandCharactersPrice,
    PriceRule,
    PriceVariant,
)
from falflow.graph.specs import NodeSpec, ParamSpec, PortSpec, PriceSource, SizeBehavior

# Numeric inputs that count things or seed a sampler; only whole numbers make sense.
_INTEGER_PARAMS = frozenset(
    {
        "num_images",
        "num_inference_steps",
        "seed",
        "steps",
        "num_steps",
        "num_frames",
        "frames_per_second",
        "max_tokens",
        "tile",
        "max_segment_len",
    }
)

# Ranges the catalog does not give, filled in only where they are safe. Keys are
# (endpoint id or "*", param).
# * num_images 1-4 is a deliberate cap that bounds the cost of one request. fal
#   may still reject a count above an endpoint's own maximum.
# * Seeds cannot be negative, and step counts must be at least 1.
# * fal's model pages give 1-50 steps for FLUX.1 [dev], 1-12 steps for
#   FLUX.1 [schnell] (quoted in the catalog) and 1-4 for clarity-upscaler's
#   upscale_factor.
_RANGES: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("*", "num_images"): (1, 4),
    ("*", "seed"): (0, None),
    ("*", "num_inference_steps"): (1, None),
    ("*", "steps"): (1, None),
    ("*", "num_steps"): (1, None),
    ("fal-ai/flux/dev", "num_inference_steps"): (1, 50),
    ("fal-ai/flux/schnell", "num_inference_steps"): (1, 12),
    ("fal-ai/clarity-upscaler", "upscale_factor"): (1, 4),
}

# Price details that the catalog states only in free text (`basis`), transcribed.
_PER_SECOND_DETAILS: dict[str, dict[str, Any]] = {
    # "+$0.056 per extra second (10 s = $0.56)"
    "fal-ai/kling-video/v2.1/standard/image-to-video": {
        "included_seconds": Decimal(5),
        "extra_usd_per_second": Decimal("0.056"),
    },
    # "+$0.07 per extra second"
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video": {
        "included_seconds": Decimal(5),
        "extra_usd_per_second": Decimal("0.07"),
    },
    # "$0.50 per 5-second video at 540p; higher resolutions and 9 s cost more
    # (multipliers not verified)": extra seconds are priced pro rata, approximate.
    "fal-ai/luma-dream-machine/ray-2": {
        "included_seconds": Decimal(5),
        "extra_usd_per_second": Decimal("0.10"),
        "approximate": True,
    },
}

_PRICE_VARIANTS: dict[str, tuple[PriceVariant, ...]] = {
    # "audio on; $0.20/s with generate_audio=false"
    "fal-ai/veo3.1": (PriceVariant(param="generate_audio", equals=(False,), usd=Decimal("0.20")),),
    # "audio on; $0.10/s with audio off"
    "fal-ai/veo3.1/fast/image-to-video": (
        PriceVariant(param="generate_audio", equals=(False,), usd=Decimal("0.10")),
    ),
    # "768P; ~$0.017/s at 512P"
    "fal-ai/minimax/hailuo-02/standard/image-to-video": (
        PriceVariant(param="resolution", equals=("512P",), usd=Decimal("0.017")),
    ),
    # "$0.08 per image when a vector style is chosen"
    "fal-ai/recraft/v3/text-to-image": (
        PriceVariant(param="style", prefix="vector_illustration", usd=Decimal("0.08")),
    ),
}

_IMAGE_OUTPUT_TYPES = frozenset({"Image", "ImageFile", "File"})


def _is_prompt_like(name: str) -> bool:
    return name in {"prompt", "text"} or name.endswith("_prompt")


def _media_kind(name: str) -> ValueKind:
    if "video" in name:
        return ValueKind.VIDEO
    if "audio" in name:
        return ValueKind.AUDIO
    return ValueKind.IMAGE


def build_param(endpoint_id: str, raw: dict[str, Any], order: int) -> ParamSpec:
    """Convert one catalog input to a ParamSpec."""
    name: str = raw["name"]
    raw_type: str = raw["type"]
    port_type = PortType(ValueKind.JSON)
    connectable = False
    param_format: Any = None
    enum: tuple[str, ...] | None = None

    if raw_type == "string":
        port_type = PortType(ValueKind.TEXT)
        connectable = _is_prompt_like(name)
        param_format = "multiline" if connectable else None
    elif raw_type.startswith("string (URL"):
        port_type = PortType(_media_kind(name))
        connectable = True
        param_format = "url"
    elif raw_type == "number":
        kind = ValueKind.INTEGER if name in _INTEGER_PARAMS else ValueKind.NUMBER
        port_type = PortType(kind)
        connectable = True
    elif raw_type == "boolean":
        port_type = PortType(ValueKind.BOOLEAN)
    elif raw_type == "enum(string)":
        port_type = PortType(ValueKind.ENUM)
        enum = tuple(raw["enum"])
    elif raw_type.startswith("enum | {width"):
        port_type = PortType(ValueKind.ENUM)
        enum = tuple(raw["enum"])
        param_format = "image_size"
    elif raw_type == "array<string>":
        element = _media_kind(name) if name.endswith("_urls") else ValueKind.TEXT
        port_type = PortType(element, is_list=True)
        connectable = True

    minimum, maximum = _RANGES.get((endpoint_id, name), _RANGES.get(("*", name), (None, None)))
    return ParamSpec(
        name=name,
        type=port_type,
        default=raw.get("default"),
        minimum=minimum,
        maximum=maximum,
        enum=enum,
        enum_is_partial=bool(raw.get("enum_truncated", False)),
        required=bool(raw.get("required", False)),
        order=order,
        connectable=connectable,
        format=param_format,
    )


def build_output(raw: dict[str, Any], count_param: str | None) -> PortSpec | None:
    """Convert one catalog output field to a PortSpec; None for untyped diagnostics."""
    name: str = raw["name"]
    raw_type: str = raw["type"]
    if raw_type == "unknown":
        return None  # e.g. `timings`: diagnostic data without a schema.

    if raw_type.startswith("Array<"):
        inner = raw_type.removeprefix("Array<").removesuffix(">")
        if name == "images" or inner in _IMAGE_OUTPUT_TYPES or inner.endswith("Image"):
            port_type = PortType(ValueKind.IMAGE, is_list=True)
        elif inner == "boolean":
            port_type = PortType(ValueKind.BOOLEAN, is_list=True)
        else:
            return PortSpec(name=name, type=PortType(ValueKind.JSON), result_field=name)
        return PortSpec(name=name, type=port_type, result_field=name, count_param=count_param)

    if raw_type in {"Image", "ImageFile"}:
        port_type = PortType(ValueKind.IMAGE)
    elif raw_type == "File":
        port_type = PortType(_media_kind(name)) if name != "images" else PortType(ValueKind.IMAGE)
    elif raw_type == "string":
        port_type = PortType(ValueKind.TEXT)
    elif raw_type == "number":
        port_type = PortType(ValueKind.INTEGER if name == "seed" else ValueKind.NUMBER)
    elif raw_type == "boolean":
        port_type = PortType(ValueKind.BOOLEAN)
    else:
        port_type = PortType(ValueKind.JSON)
    return PortSpec(
        name=name,
        type=port_type,
        required=bool(raw.get("required", False)),
        result_field=name,
    )


def _scale_param(param_names: set[str]) -> str | None:
    for name in ("upscale_factor", "scale"):
        if name in param_names:
            return name
    return None


def build_price(
    entry: dict[str, Any], param_names: set[str], params: list[ParamSpec], outputs: list[PortSpec]
) -> PriceRule:
    """Choose the price rule for an endpoint from the catalog's `price` object."""
    endpoint_id: str = entry["endpoint_id"]
    price: dict[str, Any] = entry["price"]
    usd_value = price.get("usd")
    unit = str(price.get("unit", ""))
    approximate = price.get("source_kind") == "third-party"
    variants = _PRICE_VARIANTS.get(endpoint_id, ())
    count_param = "num_images" if "num_images" in param_names else None

    if usd_value is None or usd_value == 0 or unit == "compute second":
        makes_video = any(port.type.kind is ValueKind.VIDEO for port in outputs)
        fallback = FALLBACK_USD_PER_VIDEO_REQUEST if makes_video else FALLBACK_USD_PER_REQUEST
        return FallbackPrice(usd=fallback, note=price.get("note"))

    usd = Decimal(str(usd_value))
    if unit == "megapixel":
        if entry["category"] == "upscale":
            return PerMegapixelPrice(
                usd=usd, scale_param=_scale_param(param_names), variants=variants,
                approximate=approximate,
            )
        size_param = "image_size" if "image_size" in param_names else None
        return PerMegapixelPrice(
            usd=usd, size_param=size_param, count_param=count_param, variants=variants,
            approximate=approximate,
        )
    if unit == "image":
        return PerImagePrice(
            usd=usd, count_param=count_param, variants=variants, approximate=approximate
        )
    if "second" in unit:  # "video second", "output second", "5-second video"
        return _per_second_price(endpoint_id, usd, params, variants, approximate)
    if unit == "1000 characters":
        text_param = "prompt" if "prompt" in param_names else "text"
        return PerThousandCharactersPrice(
            usd=usd, text_param=text_param, variants=variants, approximate=approximate
        )
    # "generation", "request (approx.)" and any other per-call unit.
    return PerRequestPrice(
        usd=usd, variants=variants, approximate=approximate or "approx" in unit
    )


def _per_second_price(
    endpoint_id: str,
    usd: Decimal,
    params: list[ParamSpec],
    variants: tuple[PriceVariant, ...],
    approximate: bool,
) -> PerSecondPrice:
    by_name = {param.name: param for param in params}
    details = dict(_PER_SECOND_DETAILS.get(endpoint_id, {}))
    approximate = bool(details.pop("approximate", approximate))
    duration_param = "duration" if "duration" in by_name else None
    frames_param = "num_frames" if duration_param is None and "num_frames" in by_name else None
    fps_param = "frames_per_second" if frames_param and "frames_per_second" in by_name else None
    return PerSecondPrice(
        usd=usd,
        variants=variants,
        approximate=approximate,
        duration_param=duration_param,
        frames_param=frames_param,
        fps_param=fps_param,
        **details,
    )


def _size_behavior(category: str, param_names: set[str]) -> SizeBehavior | None:
    if "image_size" in param_names:
        return "param"
    if category == "upscale" or "upscale_factor" in param_names:
        return "scale"
    if category == "background-removal":
        return "preserve"
    return None


def build_fal_spec(entry: dict[str, Any]) -> NodeSpec:
    """Convert one catalog endpoint entry to a NodeSpec."""
    endpoint_id: str = entry["endpoint_id"]
    params = [build_param(endpoint_id, raw, order) for order, raw in enumerate(entry["inputs"])]
    param_names = {param.name for param in params}
    count_param = "num_images" if "num_images" in param_names else None

    outputs = [
        port
        for raw in entry.get("output_fields", [])
        if (port := build_output(raw, count_param)) is not None
    ]
    inputs = [
        PortSpec(name=param.name, type=param.type, required=param.required)
        for param in params
        if param.connectable
    ]
    price = entry["price"]
    size_behavior = _size_behavior(entry["category"], param_names)
    return NodeSpec(
        type=endpoint_id,
        title=entry["name"],
        category=entry["category"],
        kind="fal",
        inputs=tuple(inputs),
        params=tuple(params),
        outputs=tuple(outputs),
        price=build_price(entry, param_names, params, outputs),
        price_source=PriceSource(
            kind=price.get("source_kind", "none"),
            date=price.get("source_date"),
            reference=price.get("source"),
            note=price.get("basis") or price.get("note"),
        ),
        docs_url=entry.get("docs", {}).get("llms_txt"),
        size_behavior=size_behavior,
        image_input="image_url" if "image_url" in param_names else None,
        scale_param=_scale_param(param_names) if size_behavior == "scale" else None,
    )
