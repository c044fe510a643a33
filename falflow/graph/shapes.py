"""Static batch and list-length inference over a document.

When a list reaches a single-value input, the node runs once per item (a batch),
and every output of a batched node becomes a list: a single output collects one
value per run, a list output concatenates the runs' lists. Several batched inputs
on one node are zipped; a one-item list is repeated to the others' length.

Lengths are known statically when they come from params (`num_images`, a text
list's items, a seed node's count); otherwise they are None until the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import MAX_BATCH_ITEMS, Edge, Node, WorkflowDocument
from falflow.graph.ports import PortPath, PortType, is_connection_compatible, select_port_type
from falflow.graph.specs import NodeSpec, PortSpec
from falflow.graph.static_values import StaticValues
from falflow.graph.topology import Dependencies, topological_order


@dataclass(frozen=True)
class PortShape:
    """The type a port delivers in this document, and its list length if known."""

    type: PortType
    length: int | None = None


@dataclass(frozen=True)
class NodeShape:
    """A node's run count, `batch_count` (None while unknown), and its outputs.

    `batch_lengths` maps each batching input port to its list length. When two
    known lengths other than 1 differ, `mismatch` is True and the node cannot run.
    """

    batch_count: int | None = 1
    batch_lengths: Mapping[str, int | None] = field(default_factory=dict)
    mismatch: bool = False
    outputs: Mapping[str, PortShape] = field(default_factory=dict)

    @property
    def batched(self) -> bool:
        return bool(self.batch_lengths)


def param_value(node: Node, spec: NodeSpec, name: str) -> Any:
    """Return the node's inline value for `name`, else the spec's default."""
    value = node.params.get(name)
    if value is None:
        param = spec.param(name)
        return param.default if param is not None else None
    return value


def count_from_param(
    node: Node, spec: NodeSpec, port: PortSpec, values: StaticValues | None = None
) -> int | None:
    """Return how many items a list output contains per run, when a param sets it.

    With `values`, a count param fed by a connection uses the connected value if
    it is known before the run.
    """
    if port.count_param is None:
        return None
    if values is not None:
        value = values.input_value(node, port.count_param)
    else:
        value = param_value(node, spec, port.count_param)
    if isinstance(value, list):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        # Validation rejects counts above the batch limit; capping here keeps an estimate of
        # such a document from building millions of per-run entries.
        return min(value, MAX_BATCH_ITEMS + 1)
    return None


def source_shape(
    shapes: Mapping[str, NodeShape], source: str, source_port: str
) -> PortShape | None:
    """Return the shape an edge receives from `source_port` (with its path applied)."""
    node_shape = shapes.get(source)
    if node_shape is None:
        return None
    path = PortPath.parse(source_port)
    port_shape = node_shape.outputs.get(path.port)
    if port_shape is None:
        return None
    selected = select_port_type(port_shape.type, path.steps)
    if selected is None:
        return None
    if not path.steps:
        return port_shape
    return PortShape(type=selected, length=None)


def infer_shapes(document: WorkflowDocument, catalog: NodeCatalog) -> dict[str, NodeShape]:
    """Return the shape of every node whose type is in the catalog.

    Nodes on a cycle are processed after the others, with whatever is known.
    """
    dependencies = Dependencies.of(document)
    ordered, cyclic = topological_order(dependencies)
    nodes = document.node_map()
    values = StaticValues(document, catalog)
    incoming: dict[str, list[Edge]] = {}
    for edge in document.edges:
        incoming.setdefault(edge.target, []).append(edge)
    shapes: dict[str, NodeShape] = {}
    for node_id in [*ordered, *cyclic]:
        node = nodes[node_id]
        spec = catalog.get(node.type)
        if spec is None:
            continue
        shapes[node_id] = _node_shape(node, spec, incoming.get(node_id, []), shapes, values)
    return shapes


def _node_shape(
    node: Node,
    spec: NodeSpec,
    incoming: list[Edge],
    shapes: Mapping[str, NodeShape],
    values: StaticValues,
) -> NodeShape:
    batch_lengths: dict[str, int | None] = {}
    for edge in incoming:
        target = spec.input_port(edge.target_port, node.params)
        received = source_shape(shapes, edge.source, edge.source_port)
        if target is None or received is None:
            continue
        compatibility = is_connection_compatible(received.type, target.type)
        if compatibility.ok and compatibility.batch:
            batch_lengths[edge.target_port] = received.length

    batch_count, mismatch = _combine_lengths(list(batch_lengths.values()))
    outputs: dict[str, PortShape] = {}
    for port in spec.output_ports(node.params):
        per_run = count_from_param(node, spec, port, values) if port.type.is_list else None
        if not batch_lengths:
            outputs[port.name] = PortShape(type=port.type, length=per_run)
        elif port.type.is_list:
            total = per_run * batch_count if per_run is not None and batch_count is not None else None
            outputs[port.name] = PortShape(type=port.type, length=total)
        else:
            outputs[port.name] = PortShape(type=port.type.as_list(), length=batch_count)
    return NodeShape(
        batch_count=batch_count if batch_lengths else 1,
        batch_lengths=batch_lengths,
        mismatch=mismatch,
        outputs=outputs,
    )


def _combine_lengths(lengths: list[int | None]) -> tuple[int | None, bool]:
    """Zip lengths: one-item lists repeat; returns (count or None, mismatch)."""
    if not lengths:
        return 1, False
    known = {length for length in lengths if length is not None}
    longer = known - {1}
    if len(longer) > 1:
        return None, True
    if None in lengths:
        return None, False
    return (longer.pop() if longer else min(known)), False
