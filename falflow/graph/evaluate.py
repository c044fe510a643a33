"""Pure per-node evaluation steps used by the run engine.

The engine stores each finished node's outputs as `{(node_id, port): PortValue}`.
For the next node it calls `resolve_inputs` to get one argument dict per batch
run, sends fal nodes to fal (then `extract_outputs`) or calls `run_utility`, and,
for a batch, merges the runs with `combine_batch_outputs`.

Media values are dicts such as `{"url": ..., "asset_id": ..., "content_type": ...,
"width": ..., "height": ...}`. A fal `*_url` input receives the value's URL, so
the engine must fill in URLs of stored assets before resolving a fal node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import JsonValue

from falflow.graph.document import Edge, Node
from falflow.graph.errors import InputResolutionError, OutputExtractionError, UtilityNodeError
from falflow.graph.ports import PortPath, PortType, ValueKind
from falflow.graph.specs import NodeSpec, PortSpec, template_placeholders
from falflow.graph.static_values import fill_template
from falflow.graph.utility_specs import (
    MAX_SEED,
    UTIL_IMAGE_INPUT,
    UTIL_NUMBER,
    UTIL_OUTPUT,
    UTIL_SEED,
    UTIL_TEMPLATE,
    UTIL_TEXT,
    UTIL_TEXT_LIST,
)

PortValue = JsonValue

_MEDIA_KEYS = ("url", "asset_id", "content_type", "file_name", "file_size", "width", "height", "duration")
_WHOLE_VALUE_KINDS = frozenset({ValueKind.ANY, ValueKind.JSON})


def select_path(value: PortValue, steps: tuple[int | str, ...]) -> PortValue:
    """Follow list indexes and object keys; raise KeyError/IndexError/TypeError."""
    for step in steps:
        if isinstance(step, int) and isinstance(value, list):
            value = value[step]
        elif isinstance(value, dict):
            value = value[str(step)]
        else:
            raise TypeError(f"cannot select {step!r} from {type(value).__name__}")
    return value


def resolve_inputs(
    node: Node,
    spec: NodeSpec,
    upstream: Mapping[tuple[str, str], PortValue],
    *,
    edges: Sequence[Edge],
) -> list[dict[str, Any]]:
    """Return the argument dicts for `node`, one per batch run, in item order.

    Arguments are the spec's defaults, overlaid with the node's params, overlaid
    with connected values. `upstream` contains outputs by (source node id, output
    port); `edges` may be every edge of the document (those into other nodes are
    ignored). A list reaching a single-value input makes a batch; several batch
    inputs are zipped and one-item lists repeat. For fal nodes, media values are
    replaced by their URLs.
    """
    arguments = _inline_arguments(node, spec)
    batch_values: dict[str, list[PortValue]] = {}
    for port_name, values in _connected_values(node, upstream, edges).items():
        port = spec.input_port(port_name, node.params)
        if port is None:
            raise InputResolutionError(
                f"Node '{node.id}' ({spec.type}) has no input '{port_name}'; "
                "validate the workflow before running it."
            )
        if port.type.is_list:
            arguments[port_name] = _concatenate(values)
            continue
        if len(values) != 1:
            raise InputResolutionError(
                f"Input '{port_name}' of node '{node.id}' received {len(values)} values "
                "but takes one; remove the extra connections."
            )
        value = values[0]
        if isinstance(value, list) and port.type.kind not in _WHOLE_VALUE_KINDS:
            batch_values[port_name] = value
        else:
            arguments[port_name] = value

    runs = [dict(arguments) for _ in range(_batch_length(node, batch_values))]
    for port_name, items in batch_values.items():
        for index, run in enumerate(runs):
            run[port_name] = items[index if len(items) > 1 else 0]
    if spec.kind == "fal":
        runs = [_media_to_urls(node, spec, run) for run in runs]
    return runs


def _inline_arguments(node: Node, spec: NodeSpec) -> dict[str, Any]:
    merged = spec.with_defaults(node.params)
    allowed = {param.name for param in spec.params}
    allowed |= {port.name for port in spec.input_ports(node.params)}
    return {name: value for name, value in merged.items() if name in allowed}


def _connected_values(
    node: Node, upstream: Mapping[tuple[str, str], PortValue], edges: Sequence[Edge]
) -> dict[str, list[PortValue]]:
    values: dict[str, list[PortValue]] = {}
    for edge in edges:
        if edge.target != node.id:
            continue
        path = PortPath.parse(edge.source_port)
        key = (edge.source, path.port)
        if key not in upstream:
            raise InputResolutionError(
                f"Output '{path.port}' of node '{edge.source}' is not available for input "
                f"'{edge.target_port}' of node '{node.id}'; run '{edge.source}' first."
            )
        try:
            value = select_path(upstream[key], path.steps)
        except (KeyError, IndexError, TypeError) as error:
            raise InputResolutionError(
                f"Cannot select '{edge.source_port}' from the output of node '{edge.source}' "
                f"for input '{edge.target_port}' of node '{node.id}': {error}."
            ) from error
        values.setdefault(edge.target_port, []).append(value)
    return values


def _concatenate(values: list[PortValue]) -> list[PortValue]:
    items: list[PortValue] = []
    for value in values:
        if isinstance(value, list):
            items.extend(value)
        else:
            items.append(value)
    return items


def _batch_length(node: Node, batch_values: dict[str, list[PortValue]]) -> int:
    lengths = {port: len(items) for port, items in batch_values.items()}
    longer = {length for length in lengths.values() if length != 1}
    if len(longer) > 1:
        described = ", ".join(f"{port}: {length}" for port, length in lengths.items())
        raise InputResolutionError(
            f"Node '{node.id}' runs once per list item, but its lists have different "
            f"lengths ({described}); make them the same length."
        )
    if longer:
        return longer.pop()
    return 1


def _media_to_urls(node: Node, spec: NodeSpec, arguments: dict[str, Any]) -> dict[str, Any]:
    converted = dict(arguments)
    for param in spec.params:
        if param.name not in converted or not param.type.is_media:
            continue
        value = converted[param.name]
        if param.type.is_list:
            converted[param.name] = [_url_of(node, param.name, item) for item in value]
        else:
            converted[param.name] = _url_of(node, param.name, value)
    return converted


def _url_of(node: Node, name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        url: str = value["url"]
        return url
    asset = value.get("asset_id") if isinstance(value, dict) else None
    detail = f"asset '{asset}' has no URL yet" if asset else f"got {value!r}"
    raise InputResolutionError(
        f"Input '{name}' of node '{node.id}' needs a media URL but {detail}; "
        "resolve stored assets to URLs before resolving fal inputs."
    )


def extract_outputs(spec: NodeSpec, result_json: Mapping[str, Any]) -> dict[str, PortValue]:
    """Read the output ports of one fal result; optional fields that are absent are left out."""
    outputs: dict[str, PortValue] = {}
    for port in spec.outputs:
        field = port.result_field or port.name
        raw = result_json.get(field)
        if raw is None:
            if port.required:
                raise OutputExtractionError(
                    f"The result of {spec.type} has no '{field}' field, which output "
                    f"'{port.name}' requires; fields present: {', '.join(sorted(result_json)) or 'none'}."
                )
            continue
        outputs[port.name] = _convert_output(spec, port, raw)
    return outputs


def _convert_output(spec: NodeSpec, port: PortSpec, raw: Any) -> PortValue:
    if port.type.is_list:
        if not isinstance(raw, list):
            raise _bad_output(spec, port, raw)
        return [_convert_scalar(spec, port, port.type.element, item) for item in raw]
    return _convert_scalar(spec, port, port.type, raw)


def _convert_scalar(spec: NodeSpec, port: PortSpec, port_type: PortType, raw: Any) -> PortValue:
    kind = port_type.kind
    if port_type.is_media:
        if isinstance(raw, str):
            return {"url": raw}
        if isinstance(raw, dict) and isinstance(raw.get("url"), str):
            return {key: raw[key] for key in _MEDIA_KEYS if raw.get(key) is not None}
        raise _bad_output(spec, port, raw)
    if kind is ValueKind.INTEGER:
        if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer():
            return int(raw)
        raise _bad_output(spec, port, raw)
    if kind is ValueKind.NUMBER:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return raw
        raise _bad_output(spec, port, raw)
    if kind in (ValueKind.TEXT, ValueKind.ENUM):
        if isinstance(raw, str):
            return raw
        raise _bad_output(spec, port, raw)
    if kind is ValueKind.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        raise _bad_output(spec, port, raw)
    converted: PortValue = raw
    return converted


def _bad_output(spec: NodeSpec, port: PortSpec, raw: Any) -> OutputExtractionError:
    preview = repr(raw)
    if len(preview) > 200:
        preview = preview[:200] + "..."
    return OutputExtractionError(
        f"Field '{port.result_field or port.name}' of the {spec.type} result should contain "
        f"{port.type}; got {preview}."
    )


def combine_batch_outputs(
    spec: NodeSpec, params: Mapping[str, Any], runs: Sequence[Mapping[str, PortValue]]
) -> dict[str, PortValue]:
    """Merge the outputs of a batched node's runs, in run order.

    Single-value outputs become a list with one value per run; list outputs are
    concatenated. A batch of one run still yields lists, matching shape inference.
    """
    combined: dict[str, PortValue] = {}
    for port in spec.output_ports(params):
        present = [run[port.name] for run in runs if port.name in run]
        if port.type.is_list:
            combined[port.name] = _concatenate(present)
        else:
            combined[port.name] = present
    return combined


def run_utility(
    node: Node,
    spec: NodeSpec,
    inputs: Mapping[str, PortValue],
    *,
    random_seed: int | None = None,
) -> dict[str, PortValue]:
    """Compute a utility node's outputs from one resolved argument dict.

    A seed node with `randomize` takes its seed from `random_seed`, which the run
    engine draws and records, so this function stays deterministic. The output
    node echoes its input under `value` so that the engine can store the result.
    An image input returns the asset id and URL it was given; the engine fills in
    the URL of a stored asset.
    """
    if spec.type == UTIL_TEXT:
        return {"text": _text_input(node, inputs, "text")}
    if spec.type == UTIL_TEMPLATE:
        return {"text": _run_template(node, inputs)}
    if spec.type == UTIL_NUMBER:
        return {"value": _run_number(node, inputs)}
    if spec.type == UTIL_SEED:
        return _run_seed(node, inputs, random_seed)
    if spec.type == UTIL_TEXT_LIST:
        items = inputs.get("items")
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise UtilityNodeError(f"'items' of node '{node.id}' must be a list of texts; got {items!r}.")
        return {"items": list(items)}
    if spec.type == UTIL_IMAGE_INPUT:
        image = {key: inputs[key] for key in ("asset_id", "url", "width", "height") if inputs.get(key) is not None}
        if "asset_id" not in image and "url" not in image:
            raise UtilityNodeError(f"Node '{node.id}' has neither 'asset_id' nor 'url'; choose an image.")
        return {"image": image}
    if spec.type == UTIL_OUTPUT:
        return {"value": inputs.get("value")}
    raise UtilityNodeError(f"Node '{node.id}' has type {spec.type}, which is not a utility node.")


def _text_input(node: Node, inputs: Mapping[str, PortValue], name: str) -> str:
    value = inputs.get(name)
    if not isinstance(value, str):
        raise UtilityNodeError(f"'{name}' of node '{node.id}' must be text; got {value!r}.")
    return value


def _run_template(node: Node, inputs: Mapping[str, PortValue]) -> str:
    template = _text_input(node, inputs, "template")
    values: dict[str, str] = {}
    for name in template_placeholders(template):
        value = inputs.get(name)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise UtilityNodeError(
                f"Placeholder '{{{name}}}' of node '{node.id}' has no text value; "
                f"connect a text output to '{name}' or type one."
            )
        values[name] = str(value)
    return fill_template(template, values)


def _run_number(node: Node, inputs: Mapping[str, PortValue]) -> int | float:
    value = inputs.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UtilityNodeError(f"'value' of node '{node.id}' must be a number; got {value!r}.")
    if inputs.get("integer") is True:
        if not float(value).is_integer():
            raise UtilityNodeError(
                f"'value' of node '{node.id}' must be a whole number because 'integer' is set; "
                f"got {value!r}."
            )
        return int(value)
    return value


def _run_seed(
    node: Node, inputs: Mapping[str, PortValue], random_seed: int | None
) -> dict[str, PortValue]:
    if inputs.get("randomize", True):
        if random_seed is None:
            raise UtilityNodeError(
                f"Node '{node.id}' randomizes its seed; pass random_seed (drawn and "
                "recorded by the run engine)."
            )
        base = random_seed % (MAX_SEED + 1)
    else:
        seed = inputs.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise UtilityNodeError(f"'seed' of node '{node.id}' must be a whole number; got {seed!r}.")
        base = seed
    count = inputs.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise UtilityNodeError(f"'count' of node '{node.id}' must be at least 1; got {count!r}.")
    seeds: list[PortValue] = [(base + offset) % (MAX_SEED + 1) for offset in range(count)]
    return {"seed": base, "seeds": seeds}
