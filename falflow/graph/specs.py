"""Node specifications: what a node type accepts, produces and costs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from falflow.graph.ports import PortType, PortTypeField, ValueKind
from falflow.graph.pricing import PriceRule, describe_price

# `{name}` in a template is a placeholder; `{{` and `}}` are literal braces.
TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_placeholders(template: str) -> list[str]:
    """Return the placeholder names of a template, in first-use order."""
    names: list[str] = []
    for match in TEMPLATE_TOKEN.finditer(template):
        name = match.group(1)
        if name is not None and name not in names:
            names.append(name)
    return names


@lru_cache(maxsize=1024)
def _placeholder_ports(template: str) -> tuple[PortSpec, ...]:
    # Cached because validation looks up a template node's ports once per edge.
    return tuple(
        PortSpec(name=name, type=PortType(ValueKind.TEXT), required=True)
        for name in template_placeholders(template)
    )


class PortSpec(BaseModel):
    """An input or output port.

    Output ports read `result_field` of the fal result. `count_param` names the
    param that sets how many items a list output contains per request (`num_images`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: PortTypeField
    required: bool = False
    description: str = ""
    result_field: str | None = None
    count_param: str | None = None

    @property
    def accepts_many_edges(self) -> bool:
        """List ports collect items from several edges; other ports take one edge."""
        return self.type.is_list


class ParamSpec(BaseModel):
    """An inline parameter, shown as a form field in fal's display order.

    `connectable` params are also input ports; a connected port overrides the inline
    value. `enum_is_partial` means the catalog lists only some allowed values, so
    other values are accepted. `format` is a widget hint (`image_size`, `url`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: PortTypeField
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] | None = None
    enum_is_partial: bool = False
    required: bool = False
    description: str = ""
    order: int = 0
    connectable: bool = False
    format: Literal["image_size", "url", "multiline"] | None = None


class PriceSource(BaseModel):
    """Origin of a price, as recorded in the catalog.

    `kind` is the catalog's `source_kind` (`fal`, `fal (quoted)`, `third-party`, ...)
    or `none` when no price was found; `reference` is the page or document cited.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    date: str | None = None
    reference: str | None = None
    note: str | None = None


SizeBehavior = Literal["param", "preserve", "scale"]


class NodeSpec(BaseModel):
    """Everything the editor, validator, estimator and run engine know about a type.

    `size_behavior` sets how the estimator derives an output image's size: from the
    `image_size` param (`param`), from the input image (`preserve`), or from the
    input scaled by `scale_param` (`scale`). `template_param` names the param whose
    `{name}` placeholders become extra text inputs (the template node).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    title: str
    category: str
    kind: Literal["fal", "utility"]
    description: str = ""
    inputs: tuple[PortSpec, ...] = ()
    params: tuple[ParamSpec, ...] = ()
    outputs: tuple[PortSpec, ...] = ()
    price: PriceRule
    price_source: PriceSource | None = None
    docs_url: str | None = None
    size_behavior: SizeBehavior | None = None
    image_input: str | None = None
    scale_param: str | None = None
    template_param: str | None = None
    integer_switch_param: str | None = Field(
        default=None,
        description="Boolean param that turns number outputs into integer outputs.",
    )
    required_one_of: tuple[str, ...] = Field(
        default=(),
        description="Params of which at least one must be set (image input: asset or URL).",
    )

    def param(self, name: str) -> ParamSpec | None:
        for param in self.params:
            if param.name == name:
                return param
        return None

    def with_defaults(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Return the spec's defaults overlaid with the non-null values of `params`."""
        merged = {param.name: param.default for param in self.params if param.default is not None}
        merged.update({name: value for name, value in params.items() if value is not None})
        return merged

    def input_ports(self, params: Mapping[str, Any]) -> list[PortSpec]:
        """Return the input ports of a node with these params (template placeholders
        add one text port each)."""
        ports = list(self.inputs)
        if self.template_param is not None:
            template = params.get(self.template_param)
            if isinstance(template, str):
                known = {port.name for port in ports} | {self.template_param}
                ports.extend(port for port in _placeholder_ports(template) if port.name not in known)
        return ports

    def output_ports(self, params: Mapping[str, Any]) -> list[PortSpec]:
        """Return the output ports of a node with these params."""
        if self.integer_switch_param is not None and params.get(self.integer_switch_param) is True:
            return [
                port.model_copy(update={"type": PortType(ValueKind.INTEGER)})
                if port.type == PortType(ValueKind.NUMBER)
                else port
                for port in self.outputs
            ]
        return list(self.outputs)

    def input_port(self, name: str, params: Mapping[str, Any]) -> PortSpec | None:
        for port in self.input_ports(params):
            if port.name == name:
                return port
        return None

    def output_port(self, name: str, params: Mapping[str, Any]) -> PortSpec | None:
        for port in self.output_ports(params):
            if port.name == name:
                return port
        return None

    def to_public(self) -> dict[str, Any]:
        """Return the JSON shape served by `GET /api/nodes`."""
        data = self.model_dump(mode="json")
        data["price_description"] = describe_price(self.price)
        return data
