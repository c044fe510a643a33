"""Price rules of fal endpoints and the conversion from US dollars to credits.

A rule turns a number of billed units (images, megapixels, seconds, characters or
requests) into US dollars for ONE fal request. `cost.py` works out the units from a
document before a run (estimate) or from a fal result after it (actual cost).

Money is Decimal throughout; credits are integers with 1 credit = US$0.001, and each
fal request is rounded up to whole credits.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

USD_PER_CREDIT = Decimal("0.001")
BASIS_POINTS = 10_000

# Fallback prices for endpoints whose price the catalog does not know (`usd: null`).
# US$0.10 per request is at least the highest known per-call price among the
# catalog's image, audio and text endpoints (Lyria 3.5 costs US$0.10 a generation).
# Video endpoints get US$1.00, above two 5-second Kling clips (2 x US$0.35).
FALLBACK_USD_PER_REQUEST = Decimal("0.10")
FALLBACK_USD_PER_VIDEO_REQUEST = Decimal("1.00")


def usd_to_credits(usd: Decimal, *, margin_bps: int = 0) -> int:
    """Convert dollars to whole credits, adding `margin_bps` and rounding up."""
    if margin_bps < 0:
        raise ValueError(f"margin_bps must be zero or positive; got {margin_bps}.")
    credits = usd / USD_PER_CREDIT * (BASIS_POINTS + margin_bps) / BASIS_POINTS
    return int(credits.to_integral_value(rounding=ROUND_CEILING))


class PriceVariant(BaseModel):
    """A different unit price that applies when a param has a given value.

    Matches when the param equals one of `equals`, or when it is a string that
    starts with `prefix`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    param: str
    equals: tuple[str | int | float | bool, ...] = ()
    prefix: str | None = None
    usd: Decimal

    def matches(self, params: Mapping[str, Any]) -> bool:
        if self.param not in params:
            return False
        value = params[self.param]
        if any(value == expected and type(value) is type(expected) for expected in self.equals):
            return True
        return self.prefix is not None and isinstance(value, str) and value.startswith(self.prefix)


class _PriceRuleBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    usd: Decimal = Field(ge=0, description="US dollars per unit (or per base block).")
    variants: tuple[PriceVariant, ...] = ()
    # True when the price itself is approximate (compute-billed, third-party source).
    approximate: bool = False
    note: str | None = None

    def unit_usd(self, params: Mapping[str, Any]) -> Decimal:
        """Return the unit price for these params: the first matching variant, else `usd`."""
        for variant in self.variants:
            if variant.matches(params):
                return variant.usd
        return self.usd


class PerImagePrice(_PriceRuleBase):
    """A flat price per output image; `count_param` names the images-per-request param."""

    kind: Literal["per_image"] = "per_image"
    unit: Literal["image"] = "image"
    count_param: str | None = None

    def usd_for(self, images: Decimal, params: Mapping[str, Any]) -> Decimal:
        return images * self.unit_usd(params)


class PerMegapixelPrice(_PriceRuleBase):
    """A price per output megapixel, each image rounded up to whole megapixels.

    For generators the size comes from `size_param`. For upscalers `scale_param`
    names the factor: the output has input megapixels x factor squared.
    """

    kind: Literal["per_megapixel"] = "per_megapixel"
    unit: Literal["megapixel"] = "megapixel"
    size_param: str | None = None
    scale_param: str | None = None
    count_param: str | None = None

    def usd_for(self, megapixels: Decimal, params: Mapping[str, Any]) -> Decimal:
        return megapixels * self.unit_usd(params)


class PerSecondPrice(_PriceRuleBase):
    """A price per second of output video or audio.

    With `included_seconds` > 0, `usd` is a base price covering that many seconds
    and each further second costs `extra_usd_per_second` (Kling: US$0.28 per 5 s,
    then US$0.056 per extra second). Otherwise every second costs `usd`.
    The length comes from `duration_param` ("5", "8s" or a number), or from
    `frames_param` / `fps_param`, else `default_seconds`.
    """

    kind: Literal["per_second"] = "per_second"
    unit: Literal["second"] = "second"
    included_seconds: Decimal = Decimal(0)
    extra_usd_per_second: Decimal = Decimal(0)
    duration_param: str | None = None
    frames_param: str | None = None
    fps_param: str | None = None
    default_seconds: Decimal | None = None

    def usd_for(self, seconds: Decimal, params: Mapping[str, Any]) -> Decimal:
        unit_usd = self.unit_usd(params)
        if self.included_seconds > 0:
            extra_seconds = max(Decimal(0), seconds - self.included_seconds)
            return unit_usd + extra_seconds * self.extra_usd_per_second
        return seconds * unit_usd


class PerThousandCharactersPrice(_PriceRuleBase):
    """A price per 1,000 characters of the input text in `text_param`, pro rata."""

    kind: Literal["per_1k_characters"] = "per_1k_characters"
    unit: Literal["character"] = "character"
    text_param: str

    def usd_for(self, characters: Decimal, params: Mapping[str, Any]) -> Decimal:
        """Price `characters` characters; `usd` is per 1,000 of them."""
        return characters / 1000 * self.unit_usd(params)


class PerRequestPrice(_PriceRuleBase):
    """A flat price per fal request (per call or per generation)."""

    kind: Literal["per_request"] = "per_request"
    unit: Literal["request"] = "request"

    def usd_for(self, requests: Decimal, params: Mapping[str, Any]) -> Decimal:
        return requests * self.unit_usd(params)


class FallbackPrice(_PriceRuleBase):
    """A conservative stand-in per request for an endpoint with no known price.

    Estimates that use it are always flagged `estimated=True`.
    """

    kind: Literal["fallback"] = "fallback"
    unit: Literal["request"] = "request"
    approximate: bool = True

    def usd_for(self, requests: Decimal, params: Mapping[str, Any]) -> Decimal:
        return requests * self.usd


class FreePrice(_PriceRuleBase):
    """Utility nodes run inside falflow and cost nothing."""

    kind: Literal["free"] = "free"
    unit: Literal["request"] = "request"
    usd: Decimal = Decimal(0)

    def usd_for(self, requests: Decimal, params: Mapping[str, Any]) -> Decimal:
        return Decimal(0)


PriceRule = Annotated[
    PerImagePrice
    | PerMegapixelPrice
    | PerSecondPrice
    | PerThousandCharactersPrice
    | PerRequestPrice
    | FallbackPrice
    | FreePrice,
    Field(discriminator="kind"),
]


def describe_price(rule: PriceRule) -> str:
    """Return a one-line human description, e.g. 'US$0.025 per megapixel'."""
    if isinstance(rule, FreePrice):
        return "Free"
    if isinstance(rule, FallbackPrice):
        return f"Unknown price; estimated at US${rule.usd} per request"
    if isinstance(rule, PerSecondPrice) and rule.included_seconds > 0:
        return (
            f"US${rule.usd} per {rule.included_seconds} s, "
            f"then US${rule.extra_usd_per_second} per extra second"
        )
    units = {
        "per_image": "image",
        "per_megapixel": "megapixel (rounded up per image)",
        "per_second": "second",
        "per_1k_characters": "1,000 characters",
        "per_request": "request",
    }
    text = f"US${rule.usd} per {units[rule.kind]}"
    return f"about {text}" if rule.approximate else text
