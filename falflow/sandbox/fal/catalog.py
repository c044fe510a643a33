"""Input schemas of the fal endpoints that the stand-in serves, read from the bundled catalog file.

``falflow/graph/catalog_data/fal_catalog.json`` lists 33 endpoints with their inputs (name, type, required, enum, default)
and outputs, extracted from fal-js's generated endpoint types (fal-ai/fal-js @381105e, 2026-08-02).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


class InputKind(enum.StrEnum):
    """Validation kind of one input, derived from the catalog's type string."""

    STRING = "string"
    URL = "url"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    IMAGE_SIZE = "image_size"
    STRING_LIST = "string_list"
    URL_LIST = "url_list"
    OBJECT_LIST = "object_list"
    OBJECT = "object"


@dataclass(frozen=True)
class InputSpec:
    """One input parameter. ``enum_complete`` is False when the catalog lists only part of the enum."""

    name: str
    kind: InputKind
    required: bool
    enum: tuple[str, ...] | None
    enum_complete: bool
    default: Any
    has_default: bool


@dataclass(frozen=True)
class EndpointSchema:
    endpoint_id: str
    category: str
    name: str
    inputs: tuple[InputSpec, ...]
    output_fields: tuple[str, ...]

    def input(self, name: str) -> InputSpec | None:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        return None


@cache
def load_catalog() -> dict[str, EndpointSchema]:
    """Return the bundled endpoint schemas keyed by endpoint id."""
    # The same data file the node catalog reads, so the stand-in and the editor never disagree.
    raw = json.loads(resources.files("falflow.graph").joinpath("catalog_data", "fal_catalog.json").read_text("utf-8"))
    return {item["endpoint_id"]: _parse_endpoint(item) for item in raw["endpoints"]}


def _parse_endpoint(item: dict[str, Any]) -> EndpointSchema:
    inputs = tuple(_parse_input(spec) for spec in item["inputs"])
    outputs = tuple(field["name"] for field in item.get("output_fields", []))
    return EndpointSchema(
        endpoint_id=item["endpoint_id"],
        category=item["category"],
        name=item["name"],
        inputs=inputs,
        output_fields=outputs,
    )


def _parse_input(spec: dict[str, Any]) -> InputSpec:
    enum_values = spec.get("enum")
    return InputSpec(
        name=spec["name"],
        kind=_input_kind(spec["name"], spec["type"]),
        required=bool(spec.get("required", False)),
        enum=tuple(enum_values) if enum_values is not None else None,
        enum_complete=not spec.get("enum_truncated", False),
        default=spec.get("default"),
        has_default="default" in spec,
    )


def _input_kind(name: str, type_text: str) -> InputKind:
    lowered = type_text.lower()
    if lowered.startswith("enum |"):
        return InputKind.IMAGE_SIZE
    if lowered.startswith("enum"):
        return InputKind.ENUM
    if lowered.startswith("string (url"):
        return InputKind.URL
    if lowered == "string":
        return InputKind.STRING
    if lowered == "number":
        return InputKind.NUMBER
    if lowered == "boolean":
        return InputKind.BOOLEAN
    if lowered == "array<string>":
        return InputKind.URL_LIST if name.endswith("_urls") else InputKind.STRING_LIST
    if lowered.startswith("array<"):
        return InputKind.OBJECT_LIST
    return InputKind.OBJECT
