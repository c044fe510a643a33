"""Credit estimates before a run and actual costs after each fal request.

Both sides use the same price rules, so a request whose outputs match what was
asked for costs exactly what was estimated. Each fal request is rounded up to
whole credits; a batch node's estimate is the sum of its rounded runs.

Where a number cannot be known before the run, the estimate uses a documented
assumption and sets `estimated=True` with a note:

* unknown input image size (upscalers): 1 megapixel (1024 x 1024);
* unknown output size: 1 megapixel per image;
* unknown text length (per-character prices): 1,000 characters per run;
* unknown video length: 5 seconds;
* unknown batch size: one run, so the run engine must re-check its credit hold
  once the list length is known;
* a count or scale factor known only at run time: the param's maximum.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import Node, WorkflowDocument
from falflow.graph.pricing import (
    FallbackPrice,
    FreePrice,
    PerImagePrice,
    PerMegapixelPrice,
    PerRequestPrice,
    PerSecondPrice,
    PerThousandCharactersPrice,
    PriceRule,
    usd_to_credits,
)
from falflow.graph.shapes import infer_shapes
from falflow.graph.sizes import PIXELS_PER_MEGAPIXEL, ImageSize, billed_megapixels, parse_image_size
from falflow.graph.specs import NodeSpec
from falflow.graph.static_values import StaticValues

ASSUMED_CHARACTERS = 1000
ASSUMED_SECONDS = Decimal(5)


class NodeEstimate(BaseModel):
    """The estimate of one node.

    `unit_count` is the number of billed units over all runs, in `unit` (image,
    megapixel, second, character or request). `usd` is the cost before margin.
    """

    model_config = ConfigDict(frozen=True)

    credits: int
    usd: Decimal
    unit_count: Decimal
    unit: str
    batch_count: int
    rule: str
    estimated: bool
    note: str | None = None


class Estimate(BaseModel):
    model_config = ConfigDict(frozen=True)

    nodes: dict[str, NodeEstimate]
    total_credits: int
    estimated: bool


class _Units:
    """Billed units per run plus the assumptions made to get them."""

    def __init__(self) -> None:
        self.per_run: list[Decimal] = []
        self.notes: list[str] = []

    def assume(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


def estimate_workflow(
    document: WorkflowDocument, catalog: NodeCatalog, *, margin_bps: int = 0
) -> Estimate:
    """Estimate the credits of every node and of the whole workflow.

    Nodes of unknown type are listed with 0 credits and `estimated=True`;
    validation reports them.
    """
    shapes = infer_shapes(document, catalog)
    values = StaticValues(document, catalog)
    estimates: dict[str, NodeEstimate] = {}
    for node_id, node in document.node_map().items():
        spec = catalog.get(node.type)
        shape = shapes.get(node_id)
        if spec is None or shape is None:
            estimates[node_id] = NodeEstimate(
                credits=0, usd=Decimal(0), unit_count=Decimal(0), unit="request",
                batch_count=1, rule="unpriced", estimated=True,
                note=f"{node.type} is not in the node catalog, so it has no price.",
            )
            continue
        estimates[node_id] = _estimate_node(node, spec, shape.batch_count, values, margin_bps)
    return Estimate(
        nodes=estimates,
        total_credits=sum(estimate.credits for estimate in estimates.values()),
        estimated=any(estimate.estimated for estimate in estimates.values()),
    )


def _estimate_node(
    node: Node,
    spec: NodeSpec,
    batch_count: int | None,
    values: StaticValues,
    margin_bps: int,
) -> NodeEstimate:
    units = _Units()
    runs = batch_count
    if runs is None:
        runs = 1
        units.assume("The batch size is known only when the upstream nodes run; priced as one run.")
    params = _priced_params(node, spec, values)
    rule = spec.price
    _estimate_units(node, spec, rule, params, runs, values, units)

    run_usd = [rule.usd_for(count, params) for count in units.per_run]
    credits = sum(usd_to_credits(usd, margin_bps=margin_bps) for usd in run_usd)
    if isinstance(rule, FallbackPrice):
        units.assume(f"The price of {spec.type} is unknown; a conservative US${rule.usd} per request is used.")
    elif rule.approximate:
        units.assume("The price comes from a secondary source and may differ from fal's.")
    return NodeEstimate(
        credits=credits,
        usd=sum(run_usd, Decimal(0)),
        unit_count=sum(units.per_run, Decimal(0)),
        unit=rule.unit,
        batch_count=runs,
        rule=rule.kind,
        estimated=bool(units.notes),
        note=" ".join(units.notes) or None,
    )


def _priced_params(node: Node, spec: NodeSpec, values: StaticValues) -> dict[str, Any]:
    """Return the params a run will use, as far as they are known before it.

    Connected inputs take their statically known value. A connected input whose
    value only the run can determine is left out, and the rules then use their
    assumptions.
    """
    params = spec.with_defaults(node.params)
    for port in spec.input_ports(node.params):
        resolved = values.resolve(node, port.name)
        if not resolved.connected:
            continue
        if resolved.known and resolved.value is not None:
            params[port.name] = resolved.value
        else:
            params.pop(port.name, None)
    return params


def _estimate_units(
    node: Node,
    spec: NodeSpec,
    rule: PriceRule,
    params: Mapping[str, Any],
    runs: int,
    values: StaticValues,
    units: _Units,
) -> None:
    if isinstance(rule, PerImagePrice):
        count = _count(spec, rule.count_param, params, units)
        units.per_run = [Decimal(count)] * runs
    elif isinstance(rule, PerMegapixelPrice):
        megapixels = _estimate_megapixels(node, spec, rule, params, values, units)
        units.per_run = [Decimal(megapixels)] * runs
    elif isinstance(rule, PerSecondPrice):
        seconds = requested_seconds(rule, params)
        if seconds is None:
            seconds = ASSUMED_SECONDS
            units.assume(f"The output length is unknown; priced as {ASSUMED_SECONDS} seconds.")
        units.per_run = [seconds] * runs
    elif isinstance(rule, PerThousandCharactersPrice):
        units.per_run = _estimate_characters(node, rule, runs, values, units)
    else:
        units.per_run = [Decimal(1)] * runs


def _count(
    spec: NodeSpec, count_param: str | None, params: Mapping[str, Any], units: _Units
) -> int:
    """Return the images per request; an unknown count is priced at its maximum."""
    if count_param is None:
        return 1
    value = params.get(count_param)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return int(_assume_maximum(spec, count_param, Decimal(1), units))


def _assume_maximum(spec: NodeSpec, name: str, fallback: Decimal, units: _Units) -> Decimal:
    param = spec.param(name)
    if param is not None and param.maximum is not None:
        maximum = Decimal(str(param.maximum))
        shown = int(maximum) if maximum == maximum.to_integral_value() else maximum
        units.assume(f"'{name}' is known only at run time; priced at its maximum, {shown}.")
        return maximum
    units.assume(f"'{name}' is known only at run time; priced as {fallback}.")
    return fallback


def _estimate_megapixels(
    node: Node,
    spec: NodeSpec,
    rule: PerMegapixelPrice,
    params: Mapping[str, Any],
    values: StaticValues,
    units: _Units,
) -> int:
    if rule.scale_param is not None:
        size = values.upstream_image_size(node, spec)
        if size is None:
            size = ImageSize(1024, 1024)
            units.assume("The input image size is unknown; priced as a 1 megapixel input.")
        factor = params.get(rule.scale_param)
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            scale = _assume_maximum(spec, rule.scale_param, Decimal(1), units)
        else:
            scale = Decimal(str(factor))
        return billed_megapixels(Decimal(size.pixels) * scale * scale)

    size = parse_image_size(params.get(rule.size_param)) if rule.size_param else None
    if size is None:
        units.assume("The output size is unknown; priced as 1 megapixel per image.")
        per_image = 1
    else:
        per_image = billed_megapixels(size.pixels)
    return per_image * _count(spec, rule.count_param, params, units)


def _estimate_characters(
    node: Node,
    rule: PerThousandCharactersPrice,
    runs: int,
    values: StaticValues,
    units: _Units,
) -> list[Decimal]:
    lengths = values.text_lengths(node, rule.text_param)
    if lengths is not None and len(lengths) == runs:
        return [Decimal(length) for length in lengths]
    if lengths is not None and len(lengths) == 1:
        return [Decimal(lengths[0])] * runs
    units.assume(f"The text length is unknown; priced as {ASSUMED_CHARACTERS} characters per run.")
    return [Decimal(ASSUMED_CHARACTERS)] * runs


def _number(value: Any) -> Decimal:
    """Return a numeric value as Decimal; 1 for anything else (a neutral factor)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return Decimal(1)


def requested_seconds(rule: PerSecondPrice, params: Mapping[str, Any]) -> Decimal | None:
    """Return the output length that `params` ask for, in seconds, or None."""
    if rule.duration_param is not None:
        seconds = parse_seconds(params.get(rule.duration_param))
        if seconds is not None:
            return seconds
    if rule.frames_param is not None and rule.fps_param is not None:
        frames = params.get(rule.frames_param)
        fps = params.get(rule.fps_param)
        if _is_positive_number(frames) and _is_positive_number(fps):
            return Decimal(str(frames)) / Decimal(str(fps))
    return rule.default_seconds


def parse_seconds(value: Any) -> Decimal | None:
    """Read 5, 5.5, "5" or "8s" as seconds; None for anything else."""
    if _is_positive_number(value):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().removesuffix("s")
        try:
            seconds = Decimal(text)
        except ArithmeticError:
            return None
        return seconds if seconds.is_finite() and seconds > 0 else None
    return None


def _is_positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def actual_cost(
    spec: NodeSpec,
    params: Mapping[str, Any],
    result_json: Mapping[str, Any],
    *,
    margin_bps: int = 0,
) -> int:
    """Return the credits of ONE finished fal request from what it produced.

    `params` are the arguments that were sent (see `resolve_inputs`). Images are
    counted and measured from the result; when the result omits sizes or a
    length, the requested values are used, then the estimator's assumptions.
    NOTE: for endpoints without a known price this charges the fallback price,
    because fal's real charge is not visible to falflow.
    """
    rule = spec.price
    if isinstance(rule, FreePrice):
        return 0
    merged = spec.with_defaults(params)
    units = _actual_units(spec, rule, merged, result_json)
    return usd_to_credits(rule.usd_for(units, merged), margin_bps=margin_bps)


def _actual_units(
    spec: NodeSpec, rule: PriceRule, params: Mapping[str, Any], result: Mapping[str, Any]
) -> Decimal:
    if isinstance(rule, PerImagePrice):
        images = _result_images(spec, result)
        if images is not None:
            return Decimal(len(images))
        count = params.get(rule.count_param) if rule.count_param else 1
        return Decimal(count if isinstance(count, int) and count > 0 else 1)
    if isinstance(rule, PerMegapixelPrice):
        return Decimal(_actual_megapixels(spec, rule, params, result))
    if isinstance(rule, PerSecondPrice):
        reported = _reported_seconds(spec, result)
        if reported is not None:
            return reported
        seconds = requested_seconds(rule, params)
        return seconds if seconds is not None else ASSUMED_SECONDS
    if isinstance(rule, PerThousandCharactersPrice):
        text = params.get(rule.text_param)
        return Decimal(len(text) if isinstance(text, str) else ASSUMED_CHARACTERS)
    if isinstance(rule, PerRequestPrice | FallbackPrice):
        return Decimal(1)
    return Decimal(0)


def _result_images(spec: NodeSpec, result: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """Return the image objects of a result, or None if it has no image output."""
    for port in spec.outputs:
        if not port.type.is_media or port.type.kind.value != "image" or port.result_field is None:
            continue
        value = result.get(port.result_field)
        if port.type.is_list and isinstance(value, list):
            return [item for item in value if isinstance(item, Mapping)]
        if not port.type.is_list and isinstance(value, Mapping):
            return [value]
    return None


def _actual_megapixels(
    spec: NodeSpec, rule: PerMegapixelPrice, params: Mapping[str, Any], result: Mapping[str, Any]
) -> int:
    if rule.scale_param is not None:
        factor = _number(params.get(rule.scale_param))
        fallback_pixels = Decimal(PIXELS_PER_MEGAPIXEL) * factor * factor
        fallback = billed_megapixels(fallback_pixels)
    else:
        size = parse_image_size(params.get(rule.size_param)) if rule.size_param else None
        fallback = billed_megapixels(size.pixels) if size is not None else 1

    images = _result_images(spec, result)
    if images is None:
        count = params.get(rule.count_param) if rule.count_param else 1
        return fallback * (count if isinstance(count, int) and count > 0 else 1)
    total = 0
    for image in images:
        width, height = image.get("width"), image.get("height")
        if _is_positive_number(width) and _is_positive_number(height):
            total += billed_megapixels(Decimal(str(width)) * Decimal(str(height)))
        else:
            total += fallback
    return total


def _reported_seconds(spec: NodeSpec, result: Mapping[str, Any]) -> Decimal | None:
    for port in spec.outputs:
        if port.result_field is None or not port.type.is_media:
            continue
        value = result.get(port.result_field)
        if isinstance(value, Mapping):
            seconds = parse_seconds(value.get("duration"))
            if seconds is not None:
                return seconds
    return None
