"""Specs of the utility nodes, which run inside falflow instead of on fal."""

from __future__ import annotations

from falflow.graph.ports import PortType, ValueKind
from falflow.graph.pricing import FreePrice
from falflow.graph.specs import NodeSpec, ParamSpec, PortSpec, PriceSource

UTIL_TEXT = "util/text"
UTIL_TEMPLATE = "util/template"
UTIL_NUMBER = "util/number"
UTIL_SEED = "util/seed"
UTIL_TEXT_LIST = "util/text-list"
UTIL_IMAGE_INPUT = "util/image-input"
UTIL_OUTPUT = "util/output"

# Seeds stay within the unsigned 32-bit range that diffusion samplers accept.
MAX_SEED = 2**32 - 1
# Largest side of an uploaded image that the estimator accepts, in pixels.
MAX_IMAGE_SIDE = 16384

_TEXT = PortType(ValueKind.TEXT)
_FREE = FreePrice()
_SOURCE = PriceSource(kind="falflow", note="Runs inside falflow; no fal request.")


def _utility(
    type_id: str,
    title: str,
    description: str,
    *,
    params: tuple[ParamSpec, ...] = (),
    inputs: tuple[PortSpec, ...] = (),
    outputs: tuple[PortSpec, ...] = (),
    **extra: object,
) -> NodeSpec:
    return NodeSpec.model_validate(
        {
            "type": type_id,
            "title": title,
            "category": "utility",
            "kind": "utility",
            "description": description,
            "params": params,
            "inputs": inputs,
            "outputs": outputs,
            "price": _FREE,
            "price_source": _SOURCE,
            **extra,
        }
    )


def build_utility_specs() -> list[NodeSpec]:
    """Return the specs of every utility node type."""
    return [
        _utility(
            UTIL_TEXT,
            "Text",
            "A prompt or any other text typed by the user.",
            params=(
                ParamSpec(name="text", type=_TEXT, default="", required=True, format="multiline"),
            ),
            outputs=(PortSpec(name="text", type=_TEXT),),
        ),
        _utility(
            UTIL_TEMPLATE,
            "Template",
            "Fills {name} placeholders with connected or typed texts; {{ and }} are "
            "literal braces. Each placeholder becomes a text input.",
            params=(
                ParamSpec(
                    name="template", type=_TEXT, default="", required=True, format="multiline"
                ),
            ),
            outputs=(PortSpec(name="text", type=_TEXT),),
            template_param="template",
        ),
        _utility(
            UTIL_NUMBER,
            "Number",
            "A number; with 'integer' set it must be whole and feeds integer inputs.",
            params=(
                ParamSpec(
                    name="value", type=PortType(ValueKind.NUMBER), default=0, required=True
                ),
                ParamSpec(name="integer", type=PortType(ValueKind.BOOLEAN), default=False, order=1),
            ),
            outputs=(PortSpec(name="value", type=PortType(ValueKind.NUMBER)),),
            integer_switch_param="integer",
        ),
        _utility(
            UTIL_SEED,
            "Seed",
            "A seed for reproducible generations. With 'randomize' the run picks a new "
            "seed; 'seeds' contains 'count' consecutive seeds for a batch.",
            params=(
                ParamSpec(
                    name="seed", type=PortType(ValueKind.INTEGER), default=0,
                    minimum=0, maximum=MAX_SEED,
                ),
                ParamSpec(
                    name="randomize", type=PortType(ValueKind.BOOLEAN), default=True, order=1
                ),
                ParamSpec(
                    name="count", type=PortType(ValueKind.INTEGER), default=1,
                    minimum=1, maximum=100, order=2,
                ),
            ),
            outputs=(
                PortSpec(name="seed", type=PortType(ValueKind.INTEGER)),
                PortSpec(
                    name="seeds", type=PortType(ValueKind.INTEGER, is_list=True),
                    count_param="count",
                ),
            ),
        ),
        _utility(
            UTIL_TEXT_LIST,
            "Text list",
            "Several texts. Connected to a single text input, the next node runs once "
            "per item.",
            params=(
                ParamSpec(
                    name="items", type=PortType(ValueKind.TEXT, is_list=True), default=[],
                    required=True,
                ),
            ),
            outputs=(
                PortSpec(
                    name="items", type=PortType(ValueKind.TEXT, is_list=True), count_param="items"
                ),
            ),
        ),
        _utility(
            UTIL_IMAGE_INPUT,
            "Image input",
            "An uploaded image (asset_id) or a public image URL. width and height, in "
            "pixels, let the estimator price upscalers exactly.",
            params=(
                ParamSpec(name="asset_id", type=_TEXT),
                ParamSpec(name="url", type=PortType(ValueKind.IMAGE), format="url", order=1),
                ParamSpec(
                    name="width", type=PortType(ValueKind.INTEGER), minimum=1,
                    maximum=MAX_IMAGE_SIDE, order=2,
                ),
                ParamSpec(
                    name="height", type=PortType(ValueKind.INTEGER), minimum=1,
                    maximum=MAX_IMAGE_SIDE, order=3,
                ),
            ),
            outputs=(PortSpec(name="image", type=PortType(ValueKind.IMAGE)),),
            required_one_of=("asset_id", "url"),
            size_behavior="param",
        ),
        _utility(
            UTIL_OUTPUT,
            "Output",
            "Marks a result of the workflow; it shows and keeps whatever is connected.",
            inputs=(PortSpec(name="value", type=PortType(ValueKind.ANY), required=True),),
        ),
    ]
