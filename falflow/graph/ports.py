"""Port value types, connection compatibility and port paths.

A port type is a value kind (`text`, `image`, ...) or a list of one (`list[image]`).
The browser mirrors `is_connection_compatible` while the user drags an edge, so the
rules live in one small table (`compatibility_table` serialises it for the UI).

Rules, from source type to target type:

* the same kind connects; `integer` also feeds `number` and `enum` also feeds `text`;
* `any` and `json` targets accept every value as a whole (never a batch);
* a single value feeds a list port as a one-item list;
* a list feeding a single-value port is a BATCH: the target node runs once per item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer


class ValueKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ENUM = "enum"
    JSON = "json"
    ANY = "any"


MEDIA_KINDS = frozenset({ValueKind.IMAGE, ValueKind.VIDEO, ValueKind.AUDIO})

# Source kind -> the other target kinds it may feed without conversion.
_WIDENINGS: dict[ValueKind, frozenset[ValueKind]] = {
    ValueKind.INTEGER: frozenset({ValueKind.NUMBER}),
    ValueKind.ENUM: frozenset({ValueKind.TEXT}),
}

# Target kinds that take any value whole, including lists.
_WHOLE_VALUE_TARGETS = frozenset({ValueKind.ANY, ValueKind.JSON})

_LIST_PATTERN = re.compile(r"^list\[(?P<kind>[a-z]+)\]$")


@dataclass(frozen=True)
class PortType:
    """A value kind, optionally wrapped in a list; written as `image` or `list[image]`."""

    kind: ValueKind
    is_list: bool = False

    def __str__(self) -> str:
        return f"list[{self.kind.value}]" if self.is_list else self.kind.value

    @property
    def element(self) -> PortType:
        """Return the type of one item (the type itself for single values)."""
        return PortType(self.kind)

    def as_list(self) -> PortType:
        return PortType(self.kind, is_list=True)

    @property
    def is_media(self) -> bool:
        return self.kind in MEDIA_KINDS

    @classmethod
    def parse(cls, text: str) -> PortType:
        """Parse `image` or `list[image]`; raise ValueError naming the allowed kinds."""
        return _parse_port_type(text)


@lru_cache(maxsize=64)
def _parse_port_type(text: str) -> PortType:
    match = _LIST_PATTERN.match(text)
    kind_text = match.group("kind") if match else text
    try:
        kind = ValueKind(kind_text)
    except ValueError:
        allowed = ", ".join(kind.value for kind in ValueKind)
        raise ValueError(
            f"Unknown port type {text!r}; use one of {allowed}, or list[<kind>]."
        ) from None
    if match and kind is ValueKind.ANY:
        raise ValueError("Port type 'list[any]' is not supported; use 'any'.")
    return PortType(kind, is_list=match is not None)


def _coerce_port_type(value: Any) -> Any:
    return PortType.parse(value) if isinstance(value, str) else value


# A PortType field that reads and writes its string form in pydantic models.
PortTypeField = Annotated[
    PortType,
    BeforeValidator(_coerce_port_type),
    PlainSerializer(str, return_type=str),
]


@dataclass(frozen=True)
class Compatibility:
    """Whether a connection is allowed and whether it makes the target run as a batch."""

    ok: bool
    batch: bool = False
    reason: str | None = None


def _kind_feeds(source: ValueKind, target: ValueKind) -> bool:
    return source == target or target in _WIDENINGS.get(source, frozenset())


def is_connection_compatible(
    source_type: PortType | str, target_type: PortType | str
) -> Compatibility:
    """Decide whether an output of `source_type` may feed an input of `target_type`."""
    source = PortType.parse(source_type) if isinstance(source_type, str) else source_type
    target = PortType.parse(target_type) if isinstance(target_type, str) else target_type

    if target.kind in _WHOLE_VALUE_TARGETS:
        return Compatibility(ok=True)
    if not _kind_feeds(source.kind, target.kind):
        return Compatibility(
            ok=False,
            reason=f"a {source} output cannot feed a {target} input",
        )
    if source.is_list and not target.is_list:
        return Compatibility(ok=True, batch=True)
    return Compatibility(ok=True)


def compatibility_table() -> dict[str, dict[str, dict[str, bool]]]:
    """Return `{source: {target: {"ok", "batch"}}}` for every pair of port types.

    The UI loads this once and looks connections up instead of re-implementing the
    rules, so the browser and the server cannot disagree.
    """
    types = [PortType(kind) for kind in ValueKind]
    types += [PortType(kind, is_list=True) for kind in ValueKind if kind is not ValueKind.ANY]
    table: dict[str, dict[str, dict[str, bool]]] = {}
    for source in types:
        if source.kind is ValueKind.ANY:
            continue  # No node outputs `any`.
        row: dict[str, dict[str, bool]] = {}
        for target in types:
            compatibility = is_connection_compatible(source, target)
            row[str(target)] = {"ok": compatibility.ok, "batch": compatibility.batch}
        table[str(source)] = row
    return table


@dataclass(frozen=True)
class PortPath:
    """An output port name plus optional selectors, written `images` or `images.0`.

    Integer steps index lists; text steps read keys of `json` values. Media values
    need no `.url` step because a fal `*_url` input receives a media value's URL.
    """

    port: str
    steps: tuple[int | str, ...] = ()

    def __str__(self) -> str:
        return ".".join([self.port, *(str(step) for step in self.steps)])

    @classmethod
    def parse(cls, text: str) -> PortPath:
        port, *raw_steps = text.split(".")
        steps: list[int | str] = [int(step) if step.isdigit() else step for step in raw_steps]
        return cls(port=port, steps=tuple(steps))


def select_port_type(port_type: PortType, steps: tuple[int | str, ...]) -> PortType | None:
    """Return the type reached by following `steps` from `port_type`, or None if invalid."""
    current = port_type
    for step in steps:
        if isinstance(step, int) and current.is_list:
            current = current.element
        elif current == PortType(ValueKind.JSON):
            # A JSON value may hold nested lists and objects, so any step stays JSON.
            current = PortType(ValueKind.JSON)
        else:
            return None
    return current
