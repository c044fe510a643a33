"""Input validation against the catalog schema, reported in fal's 422 ``detail`` format.

fal validates with pydantic 2, so the entries use pydantic's ``loc``/``msg``/``type`` wording, e.g.
``{"loc": ["body", "num_images"], "msg": "Input should be less than or equal to 4",
"type": "less_than_equal", "ctx": {"le": 4}, "input": 9}``. Unknown fields are ignored, as fal's
models do.

NOTE: the catalog carries no numeric ranges. ``_NUMBER_BOUNDS`` contains sanity bounds chosen for the
sandbox, which keep generation fast. fal's real limits differ per model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from falflow.sandbox.fal.catalog import EndpointSchema, InputKind, InputSpec

Detail = dict[str, Any]

MIN_IMAGE_SIDE = 64
MAX_IMAGE_SIDE = 4096


@dataclass(frozen=True)
class _Bounds:
    minimum: float
    maximum: float
    integer: bool = False


_NUMBER_BOUNDS: dict[str, _Bounds] = {
    "num_images": _Bounds(1, 4, integer=True),
    "seed": _Bounds(0, 2**53, integer=True),
    "num_inference_steps": _Bounds(1, 100, integer=True),
    "guidance_scale": _Bounds(0, 40),
    "upscale_factor": _Bounds(1, 4),
    "scale": _Bounds(1, 8),
    "creativity": _Bounds(0, 1),
    "resemblance": _Bounds(0, 1),
    "fidelity": _Bounds(0, 1),
    "stability": _Bounds(0, 1),
    "similarity_boost": _Bounds(0, 1),
    "style": _Bounds(0, 1),
    "image_prompt_strength": _Bounds(0, 1),
    "cfg_scale": _Bounds(0, 1),
    "cfg_strength": _Bounds(0, 20),
    "speed": _Bounds(0.25, 4),
    "temperature": _Bounds(0, 2),
    "max_tokens": _Bounds(1, 200_000, integer=True),
    "seconds_total": _Bounds(1, 47),
    "seconds_start": _Bounds(0, 47),
    "steps": _Bounds(1, 1000, integer=True),
    "duration": _Bounds(1, 30),
    "num_steps": _Bounds(1, 100, integer=True),
    "num_frames": _Bounds(17, 161, integer=True),
    "frames_per_second": _Bounds(4, 60, integer=True),
    "max_segment_len": _Bounds(1, 29, integer=True),
    "tile": _Bounds(0, 2048, integer=True),
}
_DEFAULT_BOUNDS = _Bounds(-1e9, 1e9)

# Text inputs that a model cannot run without; an empty string fails like a missing one.
_NON_EMPTY_TEXT = frozenset({"prompt", "text", "model"})


def validate_arguments(schema: EndpointSchema, arguments: dict[str, Any]) -> list[Detail]:
    """Return every problem with ``arguments`` as fal ``detail`` entries; an empty list means valid."""
    problems: list[Detail] = []
    for spec in schema.inputs:
        if spec.name not in arguments or arguments[spec.name] is None:
            if spec.required:
                problems.append(_detail([spec.name], "Field required", "missing", None))
            continue
        problems.extend(_check_value(spec, arguments[spec.name]))
    return problems


def with_defaults(schema: EndpointSchema, arguments: dict[str, Any]) -> dict[str, Any]:
    """Return ``arguments`` with the catalog defaults filled in for omitted inputs."""
    resolved = dict(arguments)
    for spec in schema.inputs:
        if resolved.get(spec.name) is None and spec.has_default:
            resolved[spec.name] = spec.default
    return resolved


def _check_value(spec: InputSpec, value: Any) -> list[Detail]:
    loc: list[str | int] = [spec.name]
    match spec.kind:
        case InputKind.STRING:
            return _check_string(spec, value)
        case InputKind.URL:
            return _check_url(loc, value)
        case InputKind.NUMBER:
            return _check_number(loc, value, _NUMBER_BOUNDS.get(spec.name, _DEFAULT_BOUNDS))
        case InputKind.BOOLEAN:
            if isinstance(value, bool):
                return []
            return [_detail(loc, "Input should be a valid boolean", "bool_type", value)]
        case InputKind.ENUM:
            return _check_enum(spec, loc, value)
        case InputKind.IMAGE_SIZE:
            return _check_image_size(spec, value)
        case InputKind.STRING_LIST | InputKind.URL_LIST:
            return _check_string_list(spec, value)
        case InputKind.OBJECT_LIST:
            return _check_object_list(loc, value)
        case InputKind.OBJECT:
            if isinstance(value, dict):
                return []
            return [_detail(loc, "Input should be a valid dictionary", "dict_type", value)]
    return []


def _check_string(spec: InputSpec, value: Any) -> list[Detail]:
    if not isinstance(value, str):
        return [_detail([spec.name], "Input should be a valid string", "string_type", value)]
    if spec.name in _NON_EMPTY_TEXT and spec.required and not value.strip():
        return [
            _detail(
                [spec.name], "String should have at least 1 character", "string_too_short", value, {"min_length": 1}
            )
        ]
    return []


def _check_url(loc: list[str | int], value: Any) -> list[Detail]:
    if not isinstance(value, str):
        return [_detail(loc, "Input should be a valid string", "string_type", value)]
    if not value.startswith(("http://", "https://", "data:")):
        return [
            _detail(
                loc,
                "Input should be a valid URL: an http(s) URL or a data URI",
                "url_parsing",
                value[:100],
            )
        ]
    return []


def _check_number(loc: list[str | int], value: Any, bounds: _Bounds) -> list[Detail]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return [_detail(loc, "Input should be a valid number", "float_type", value)]
    if bounds.integer and not float(value).is_integer():
        return [_detail(loc, "Input should be a valid integer", "int_type", value)]
    if value < bounds.minimum:
        limit = _plain_number(bounds.minimum)
        return [
            _detail(
                loc, f"Input should be greater than or equal to {limit}", "greater_than_equal", value, {"ge": limit}
            )
        ]
    if value > bounds.maximum:
        limit = _plain_number(bounds.maximum)
        return [_detail(loc, f"Input should be less than or equal to {limit}", "less_than_equal", value, {"le": limit})]
    return []


def _check_enum(spec: InputSpec, loc: list[str | int], value: Any) -> list[Detail]:
    if not isinstance(value, str):
        return [_detail(loc, "Input should be a valid string", "string_type", value)]
    if spec.enum is None or not spec.enum_complete or value in spec.enum:
        return []
    expected = _expected_list(spec.enum)
    return [_detail(loc, f"Input should be {expected}", "literal_error", value, {"expected": expected})]


def _check_image_size(spec: InputSpec, value: Any) -> list[Detail]:
    if isinstance(value, str):
        return _check_enum(spec, [spec.name], value)
    if not isinstance(value, dict):
        return [
            _detail(
                [spec.name], "Input should be a preset name or an object with width and height", "model_type", value
            )
        ]
    problems: list[Detail] = []
    for side in ("width", "height"):
        if side not in value:
            problems.append(_detail([spec.name, side], "Field required", "missing", None))
            continue
        problems.extend(
            _check_number([spec.name, side], value[side], _Bounds(MIN_IMAGE_SIDE, MAX_IMAGE_SIDE, integer=True))
        )
    return problems


def _check_string_list(spec: InputSpec, value: Any) -> list[Detail]:
    if not isinstance(value, list):
        return [_detail([spec.name], "Input should be a valid list", "list_type", value)]
    if spec.required and not value:
        return [
            _detail(
                [spec.name], "List should have at least 1 item after validation", "too_short", value, {"min_length": 1}
            )
        ]
    problems: list[Detail] = []
    for index, item in enumerate(value):
        if spec.kind is InputKind.URL_LIST:
            problems.extend(_check_url([spec.name, index], item))
        elif not isinstance(item, str):
            problems.append(_detail([spec.name, index], "Input should be a valid string", "string_type", item))
    return problems


def _check_object_list(loc: list[str | int], value: Any) -> list[Detail]:
    if not isinstance(value, list):
        return [_detail(loc, "Input should be a valid list", "list_type", value)]
    return [
        _detail([*loc, index], "Input should be a valid dictionary", "dict_type", item)
        for index, item in enumerate(value)
        if not isinstance(item, dict)
    ]


def _detail(
    loc: list[str | int], message: str, error_type: str, value: Any, context: dict[str, Any] | None = None
) -> Detail:
    entry: Detail = {"loc": ["body", *loc], "msg": message, "type": error_type}
    if context:
        entry["ctx"] = context
    if value is not None:
        entry["input"] = value
    return entry


def _expected_list(values: tuple[str, ...]) -> str:
    quoted = [f"'{value}'" for value in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
