"""Shared pieces of fal's workflow JSON: references, input types and naming.

In fal's format a value that is exactly `$input.<field>` or `$<node>.<path>` is a
reference; dotted path segments made of digits index lists (`$n.images.0.url`).
References are whole values only; fal does not interpolate inside strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from falflow.graph.utility_specs import (
    UTIL_IMAGE_INPUT,
    UTIL_NUMBER,
    UTIL_SEED,
    UTIL_TEXT,
    UTIL_TEXT_LIST,
)

# Version string that fal's Python SDK writes into exported workflows.
FAL_WORKFLOW_VERSION = "0.1"
INPUT_ROOT = "input"
RUN_NODE = "run"
DISPLAY_NODE = "display"
# Metadata key under which falflow keeps what fal's format cannot hold (utility
# node types, labels, shadowed params), so its own exports round-trip exactly.
FALFLOW_METADATA_KEY = "falflow"

# Utility nodes that become fal workflow inputs (`schema.input` fields), with their
# output port.
INPUT_NODE_PORTS: dict[str, str] = {
    UTIL_TEXT: "text",
    UTIL_NUMBER: "value",
    UTIL_SEED: "seed",
    UTIL_IMAGE_INPUT: "image",
    UTIL_TEXT_LIST: "items",
}

_REFERENCE = re.compile(r"^\$(?P<root>[A-Za-z0-9_-]+)(?P<path>(\.[A-Za-z0-9_-]+)*)$")
_INVALID_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]+")
_INVALID_FIELD_CHARACTERS = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class FalReference:
    """A parsed reference: `root` is `input` or a node id; `segments` the dotted path."""

    root: str
    segments: tuple[str, ...]

    def __str__(self) -> str:
        return "$" + ".".join([self.root, *self.segments])


def parse_reference(value: object) -> FalReference | None:
    """Return the reference in `value`, or None if `value` is not a whole reference."""
    if not isinstance(value, str):
        return None
    match = _REFERENCE.match(value)
    if match is None:
        return None
    path = match.group("path")
    segments = tuple(path[1:].split(".")) if path else ()
    return FalReference(root=match.group("root"), segments=segments)


def looks_like_reference(value: object) -> bool:
    """Return True for strings that fal would try to read as a reference."""
    return isinstance(value, str) and value.startswith("$")


def _unique(base: str, used_names: set[str], invalid: re.Pattern[str], separator: str) -> str:
    cleaned = invalid.sub(separator, base).strip("-_")[:64] or "node"
    candidate = cleaned
    counter = 2
    while candidate in used_names:
        suffix = f"{separator}{counter}"
        candidate = cleaned[: 64 - len(suffix)] + suffix
        counter += 1
    used_names.add(candidate)
    return candidate


def unique_node_id(base: str, used_names: set[str]) -> str:
    """Return `base` made a valid falflow node id that is not in `used_names`, and add it."""
    return _unique(base, used_names, _INVALID_ID_CHARACTERS, "-")


def unique_field_name(base: str, used_names: set[str]) -> str:
    """Return `base` made a valid fal field name that is not in `used_names`, and add it."""
    return _unique(base, used_names, _INVALID_FIELD_CHARACTERS, "_")
