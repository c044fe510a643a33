"""Apply a price from fal's pricing API to a node spec's price rule.

fal names its billing units freely ("megapixels", "video_second", "1000 characters", "compute seconds").
`classify_unit` maps each name onto falflow's rule kinds. `apply_live_price` then keeps the bundled rule's
shape where the kinds match, so params, variants and included seconds survive, and replaces its unit
price. A different kind gets a new rule built from the spec's params. Prices per compute second (GPU
time) cannot be estimated before a run, so those keep the bundled rule and record fal's rate in the
price source's note.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from falflow.graph.pricing import (
    PerImagePrice,
    PerMegapixelPrice,
    PerRequestPrice,
    PerSecondPrice,
    PerThousandCharactersPrice,
    PriceRule,
)
from falflow.graph.specs import NodeSpec, PriceSource

LIVE_PRICE_SOURCE_KIND = "fal (live)"
# Scaled prices keep this many decimal places of a US dollar, rounded up.
_SCALED_USD_STEP = Decimal("0.000001")


class LiveUnit(enum.Enum):
    """falflow's reading of one of fal's billing units."""

    IMAGE = "per_image"
    MEGAPIXEL = "per_megapixel"
    SECOND = "per_second"
    THOUSAND_CHARACTERS = "per_1k_characters"
    REQUEST = "per_request"
    # One output video, priced per request. Where the bundled rule prices a block of seconds, a video
    # or request price replaces the block's base price instead.
    VIDEO = "per_video"
    COMPUTE_SECOND = "per_compute_second"


@dataclass(frozen=True)
class UnitReading:
    """A fal unit read as `unit`: fal's unit price x `multiplier` / `divisor` is the price per falflow unit."""

    unit: LiveUnit
    multiplier: Decimal = Decimal(1)
    divisor: Decimal = Decimal(1)

    def price_per_unit(self, unit_price: Decimal) -> Decimal:
        return _tidy(unit_price * self.multiplier / self.divisor)


_UNITS: dict[str, UnitReading] = {
    "image": UnitReading(LiveUnit.IMAGE),
    "megapixel": UnitReading(LiveUnit.MEGAPIXEL),
    "mp": UnitReading(LiveUnit.MEGAPIXEL),
    "second": UnitReading(LiveUnit.SECOND),
    "video second": UnitReading(LiveUnit.SECOND),
    "output second": UnitReading(LiveUnit.SECOND),
    "audio second": UnitReading(LiveUnit.SECOND),
    "minute": UnitReading(LiveUnit.SECOND, divisor=Decimal(60)),
    "video minute": UnitReading(LiveUnit.SECOND, divisor=Decimal(60)),
    "audio minute": UnitReading(LiveUnit.SECOND, divisor=Decimal(60)),
    "1000 character": UnitReading(LiveUnit.THOUSAND_CHARACTERS),
    "1k character": UnitReading(LiveUnit.THOUSAND_CHARACTERS),
    "thousand character": UnitReading(LiveUnit.THOUSAND_CHARACTERS),
    "character": UnitReading(LiveUnit.THOUSAND_CHARACTERS, multiplier=Decimal(1000)),
    "request": UnitReading(LiveUnit.REQUEST),
    "generation": UnitReading(LiveUnit.REQUEST),
    "call": UnitReading(LiveUnit.REQUEST),
    "run": UnitReading(LiveUnit.REQUEST),
    "video": UnitReading(LiveUnit.VIDEO),
    "compute second": UnitReading(LiveUnit.COMPUTE_SECOND),
    "gpu second": UnitReading(LiveUnit.COMPUTE_SECOND),
}


class LivePriceRejectedError(ValueError):
    """A live price that falflow cannot use; the bundled rule stays. `reason` is a stable code."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def classify_unit(unit: str) -> UnitReading | None:
    """Return falflow's reading of fal's unit name, or None for a unit falflow does not know.

    Case, underscores, hyphens, plurals and a leading "per" are ignored: "Video_Seconds" reads as
    "video second".
    """
    words = re.sub(r"[^a-z0-9]+", " ", unit.lower()).split()
    if words[:1] == ["per"]:
        words = words[1:]
    singular = [_singular(word) for word in words]
    return _UNITS.get(" ".join(singular))


def _singular(word: str) -> str:
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def apply_live_price(
    spec: NodeSpec,
    *,
    unit_price: Decimal,
    unit: str,
    currency: str,
    fetched_at: datetime,
    reference: str,
) -> NodeSpec:
    """Return `spec` with fal's live price in place of the bundled one.

    `reference` is the URL the price came from and `fetched_at` when it was fetched; both go into the
    spec's price source. Raises `LivePriceRejectedError` for a price in another currency than US dollars,
    for a unit that `classify_unit` does not know, and for a unit price of zero. Zero is treated as
    missing, as the bundled catalog does, because pricing a paid endpoint at zero would give its runs away.
    """
    if currency.upper() != "USD":
        raise LivePriceRejectedError(
            f"{spec.type}: fal's price is in {currency!r}, but falflow prices in USD; the bundled price stays.",
            reason="currency",
        )
    if unit_price <= 0:
        raise LivePriceRejectedError(
            f"{spec.type}: fal's unit price is {unit_price}; a price of zero is treated as missing.",
            reason="zero_price",
        )
    reading = classify_unit(unit)
    if reading is None:
        raise LivePriceRejectedError(
            f"{spec.type}: fal's unit {unit!r} has no falflow price rule; the bundled price stays.",
            reason="unknown_unit",
        )

    stamp = fetched_at.isoformat(timespec="seconds")
    if reading.unit is LiveUnit.COMPUTE_SECOND:
        bundled = spec.price_source or PriceSource(kind="none")
        note = f"fal bills this endpoint by GPU time: US${unit_price} per compute second (fetched {stamp})."
        merged = f"{bundled.note} {note}" if bundled.note else note
        return spec.model_copy(update={"price_source": bundled.model_copy(update={"note": merged})})

    usd = reading.price_per_unit(unit_price)
    source = PriceSource(
        kind=LIVE_PRICE_SOURCE_KIND,
        date=stamp,
        reference=reference,
        note=f"US${unit_price} per {unit} from fal's pricing API, with this account's discounts.",
    )
    return spec.model_copy(update={"price": _live_rule(spec, reading.unit, usd), "price_source": source})


def _live_rule(spec: NodeSpec, unit: LiveUnit, usd: Decimal) -> PriceRule:
    bundled = spec.price
    if isinstance(bundled, PerSecondPrice) and bundled.included_seconds > 0:
        # The bundled rule prices a block of seconds (Kling: US$0.28 per 5 s, then US$0.056 per second).
        if unit is LiveUnit.SECOND:
            return _rescaled(bundled, _tidy(usd * bundled.included_seconds))
        if unit in (LiveUnit.VIDEO, LiveUnit.REQUEST):
            return _rescaled(bundled, usd)
    if bundled.kind == unit.value:
        return _rescaled(bundled, usd)
    return _new_rule(spec, unit, usd)


def _rescaled(rule: PriceRule, usd: Decimal) -> PriceRule:
    """Return `rule` with base price `usd`; variant and extra-second prices change in the same ratio.

    NOTE: the proportional change of variant and extra-second prices is an estimate, because fal's
    pricing API returns a single unit price per endpoint.
    """
    ratio = usd / rule.usd if rule.usd > 0 else Decimal(1)
    scaled_parts = bool(rule.variants) or (isinstance(rule, PerSecondPrice) and rule.extra_usd_per_second > 0)
    update: dict[str, object] = {
        "usd": usd,
        # Variant and extra-second prices still come from the bundled source, approximate or not.
        "approximate": rule.approximate and scaled_parts,
        "variants": tuple(
            variant.model_copy(update={"usd": _scaled(variant.usd, ratio)}) for variant in rule.variants
        ),
    }
    if isinstance(rule, PerSecondPrice):
        update["extra_usd_per_second"] = _scaled(rule.extra_usd_per_second, ratio)
    if scaled_parts and ratio != 1:
        update["note"] = "Variant and extra-second prices are scaled from the bundled catalog by fal's live price."
    return rule.model_copy(update=update)


def _scaled(value: Decimal, ratio: Decimal) -> Decimal:
    if ratio == 1 or value == 0:
        return value
    return _tidy((value * ratio).quantize(_SCALED_USD_STEP, rounding=ROUND_CEILING))


def _tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros (0.280 becomes 0.28) without switching to exponent notation for whole numbers."""
    normalized = value.normalize()
    return normalized.quantize(Decimal(1)) if normalized == normalized.to_integral_value() else normalized


def _new_rule(spec: NodeSpec, unit: LiveUnit, usd: Decimal) -> PriceRule:
    """Build a rule of the live unit's kind from the spec's params; bundled variants do not carry over."""
    count_param = "num_images" if spec.param("num_images") is not None else None
    if unit is LiveUnit.IMAGE:
        return PerImagePrice(usd=usd, count_param=count_param)
    if unit is LiveUnit.MEGAPIXEL:
        if spec.size_behavior == "scale":
            return PerMegapixelPrice(usd=usd, scale_param=spec.scale_param)
        size_param = "image_size" if spec.param("image_size") is not None else None
        return PerMegapixelPrice(usd=usd, size_param=size_param, count_param=count_param)
    if unit is LiveUnit.SECOND:
        return _new_per_second_rule(spec, usd)
    if unit is LiveUnit.THOUSAND_CHARACTERS:
        text_param = "prompt" if spec.param("prompt") is not None else "text"
        return PerThousandCharactersPrice(usd=usd, text_param=text_param)
    return PerRequestPrice(usd=usd)


def _new_per_second_rule(spec: NodeSpec, usd: Decimal) -> PerSecondPrice:
    duration_param = "duration" if spec.param("duration") is not None else None
    frames_param = None
    fps_param = None
    if duration_param is None and spec.param("num_frames") is not None:
        frames_param = "num_frames"
        fps_param = "frames_per_second" if spec.param("frames_per_second") is not None else None
    return PerSecondPrice(usd=usd, duration_param=duration_param, frames_param=frames_param, fps_param=fps_param)

