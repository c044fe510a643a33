"""Checks of inline param values against their ParamSpec (problem `invalid_param`)."""

from __future__ import annotations

import difflib
import math
from typing import Any

from falflow.graph.document import Node
from falflow.graph.ports import PortType, ValueKind
from falflow.graph.problems import INVALID_PARAM, Problem
from falflow.graph.sizes import IMAGE_SIZE_PRESETS, parse_image_size
from falflow.graph.specs import NodeSpec, ParamSpec

_URL_PREFIXES = ("http://", "https://", "data:")


def check_params(node: Node, spec: NodeSpec) -> list[Problem]:
    """Return a problem for every inline param that is unknown or has a bad value."""
    problems: list[Problem] = []
    input_names = {port.name for port in spec.input_ports(node.params)}
    for name, value in node.params.items():
        if value is None:
            continue
        param = spec.param(name)
        if param is None:
            if name in input_names:
                # An inline value for a port without a param, e.g. a template placeholder.
                message = _check_text(name, value)
            else:
                message = _unknown_param_message(name, spec)
        else:
            message = check_value(param, value)
        if message is not None:
            problems.append(
                Problem(code=INVALID_PARAM, node_id=node.id, param=name, message=message)
            )

    if spec.template_param is not None:
        template = node.params.get(spec.template_param)
        if isinstance(template, str) and "{" + spec.template_param + "}" in template:
            problems.append(
                Problem(
                    code=INVALID_PARAM,
                    node_id=node.id,
                    param=spec.template_param,
                    message=(
                        f"The placeholder '{{{spec.template_param}}}' is reserved because "
                        f"'{spec.template_param}' is the template itself; rename the placeholder."
                    ),
                )
            )
    return problems


def _unknown_param_message(name: str, spec: NodeSpec) -> str:
    names = [param.name for param in spec.params]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"'{name}' is not a parameter of {spec.type}.{hint} Remove it or rename it."


def check_value(param: ParamSpec, value: Any) -> str | None:
    """Return why `value` is invalid for `param`, or None if it is valid."""
    if param.format == "image_size":
        return _check_image_size(param, value)
    if param.type.is_list:
        if not isinstance(value, list):
            return f"'{param.name}' must be a list of {param.type.kind.value} values; got {value!r}."
        for item in value:
            message = _check_scalar(param, param.type.element, item)
            if message is not None:
                return message
        return None
    return _check_scalar(param, param.type, value)


def _check_scalar(param: ParamSpec, port_type: PortType, value: Any) -> str | None:
    name = param.name
    kind = port_type.kind
    if kind is ValueKind.TEXT:
        return _check_text(name, value)
    if kind is ValueKind.BOOLEAN:
        if not isinstance(value, bool):
            return f"'{name}' must be true or false; got {value!r}."
        return None
    if kind is ValueKind.ENUM:
        return _check_enum(param, value)
    if kind in (ValueKind.NUMBER, ValueKind.INTEGER):
        return _check_number(param, kind, value)
    if port_type.is_media:
        return _check_media(name, kind, value)
    return None  # JSON and `any` accept every JSON value.


def _check_text(name: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"'{name}' must be text; got {value!r}."
    return None


def _check_enum(param: ParamSpec, value: Any) -> str | None:
    options = param.enum or ()
    if not isinstance(value, str):
        return f"'{param.name}' must be one of {_quoted(options)}; got {value!r}."
    if value not in options and not param.enum_is_partial:
        return f"'{param.name}' must be one of {_quoted(options)}; got {value!r}."
    return None


MAX_SAFE_NUMBER = 2**53 - 1


def _check_number(param: ParamSpec, kind: ValueKind, value: Any) -> str | None:
    name = param.name
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        expected = "a whole number" if kind is ValueKind.INTEGER else "a number"
        return f"'{name}' must be {expected}; got {value!r}."
    if kind is ValueKind.INTEGER and isinstance(value, float) and not value.is_integer():
        return f"'{name}' must be a whole number; got {value!r}."
    low, high = param.minimum, param.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        return f"'{name}' must be {_range_text(low, high)}; got {_number_text(value)}."
    if abs(value) > MAX_SAFE_NUMBER:
        # Beyond this, values no longer fit the 64-bit columns and JSON numbers they travel in.
        return f"'{name}' must be between {-MAX_SAFE_NUMBER} and {MAX_SAFE_NUMBER}; got {_number_text(value)}."
    return None


def _check_media(name: str, kind: ValueKind, value: Any) -> str | None:
    if value == "" or (isinstance(value, str) and value.startswith(_URL_PREFIXES)):
        return None  # An empty field is unset; the required-input check covers it.
    if isinstance(value, dict) and (
        isinstance(value.get("url"), str) or isinstance(value.get("asset_id"), str)
    ):
        return None
    return (
        f"'{name}' must be an http(s) URL or a data URI of an {kind.value}, "
        f"or connect an {kind.value} output to it; got {value!r}."
    )


def _check_image_size(param: ParamSpec, value: Any) -> str | None:
    if parse_image_size(value) is not None:
        return None
    presets = ", ".join(IMAGE_SIZE_PRESETS)
    return (
        f"'{param.name}' must be one of {presets}, or an object "
        f'{{"width": W, "height": H}} with positive whole numbers; got {value!r}.'
    )


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {_number_text(low)} and {_number_text(high)}"
    if low is not None:
        return f"at least {_number_text(low)}"
    return f"at most {_number_text(high)}"


def _number_text(value: float | None) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quoted(options: tuple[str, ...]) -> str:
    return ", ".join(f"'{option}'" for option in options)
