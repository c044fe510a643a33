"""Whole-graph validation before anything is spent.

`validate_workflow` never stops at the first problem: it reports every problem of
every node and edge, so the editor can badge them all at once. Problems come in a
fixed order (size, ids, node types, params, edges, required inputs, cycles,
batches) and, within each check, in document order.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import DEFAULT_LIMITS, DocumentLimits, Edge, Node, WorkflowDocument
from falflow.graph.param_checks import check_params
from falflow.graph.ports import PortPath, ValueKind, is_connection_compatible, select_port_type
from falflow.graph.problems import (
    BATCH_MISMATCH,
    CYCLE,
    DANGLING_EDGE,
    DUPLICATE_ID,
    MISSING_REQUIRED_INPUT,
    MULTIPLE_EDGES_INTO_PORT,
    PLACEHOLDER_NODE,
    TOO_LARGE,
    TYPE_MISMATCH,
    UNKNOWN_NODE_TYPE,
    Problem,
)
from falflow.graph.shapes import infer_shapes
from falflow.graph.specs import NodeSpec, PortSpec
from falflow.graph.topology import Dependencies, find_cycles


def validate_workflow(
    document: WorkflowDocument,
    catalog: NodeCatalog,
    *,
    limits: DocumentLimits = DEFAULT_LIMITS,
) -> list[Problem]:
    """Return every problem that would stop `document` from running; [] if none."""
    nodes = document.node_map()
    specs = {node_id: catalog.get(node.type) for node_id, node in nodes.items()}
    problems: list[Problem] = []
    problems += _check_sizes(document, limits)
    problems += _check_duplicate_ids(document)
    problems += _check_node_types(nodes.values(), specs)
    for node_id, node in nodes.items():
        spec = specs[node_id]
        if spec is not None:
            problems += check_params(node, spec)
    wires, edge_problems = _check_edges(document.edges, nodes, specs)
    problems += edge_problems
    problems += _check_multiple_edges(wires, nodes, specs)
    problems += _check_required_inputs(nodes.values(), specs, wires)
    problems += _check_cycles(document)
    problems += _check_batches(document, catalog, limits)
    return problems


def _edge_label(edge: Edge) -> str:
    described = f"{edge.source}.{edge.source_port} -> {edge.target}.{edge.target_port}"
    return f"'{edge.id}' ({described})" if edge.id else f"'{described}'"


def _check_sizes(document: WorkflowDocument, limits: DocumentLimits) -> list[Problem]:
    problems: list[Problem] = []
    if len(document.nodes) > limits.max_nodes:
        problems.append(
            Problem(
                code=TOO_LARGE,
                message=(
                    f"The workflow has {len(document.nodes)} nodes; the limit is "
                    f"{limits.max_nodes}. Split it into smaller workflows."
                ),
            )
        )
    if len(document.edges) > limits.max_edges:
        problems.append(
            Problem(
                code=TOO_LARGE,
                message=(
                    f"The workflow has {len(document.edges)} edges; the limit is "
                    f"{limits.max_edges}. Split it into smaller workflows."
                ),
            )
        )
    for node in document.nodes:
        size = len(json.dumps(node.params, ensure_ascii=False, default=str).encode("utf-8"))
        if size > limits.max_params_json_bytes:
            problems.append(
                Problem(
                    code=TOO_LARGE,
                    node_id=node.id,
                    message=(
                        f"The parameters of node '{node.id}' take {size} bytes; the limit is "
                        f"{limits.max_params_json_bytes}. Upload large files as assets and "
                        "connect them instead of pasting them inline."
                    ),
                )
            )
    return problems


def _check_duplicate_ids(document: WorkflowDocument) -> list[Problem]:
    problems: list[Problem] = []
    seen_nodes: set[str] = set()
    for node in document.nodes:
        if node.id in seen_nodes:
            problems.append(
                Problem(
                    code=DUPLICATE_ID,
                    node_id=node.id,
                    message=f"Node id '{node.id}' is used more than once; rename one of the nodes.",
                )
            )
        seen_nodes.add(node.id)
    seen_edges: set[str] = set()
    for edge in document.edges:
        if edge.id is None:
            continue
        if edge.id in seen_edges:
            problems.append(
                Problem(
                    code=DUPLICATE_ID,
                    edge_id=edge.id,
                    message=f"Edge id '{edge.id}' is used more than once; rename one of the edges.",
                )
            )
        seen_edges.add(edge.id)
    return problems


def _check_node_types(
    nodes: Iterable[Node], specs: dict[str, NodeSpec | None]
) -> list[Problem]:
    problems: list[Problem] = []
    for node in nodes:
        if specs[node.id] is not None:
            continue
        if node.placeholder:
            message = (
                f"Node '{node.id}' stands in for {node.type}, which is not in the node "
                "catalog; its parameters were kept. Replace it with a supported node "
                "before running."
            )
            problems.append(Problem(code=PLACEHOLDER_NODE, node_id=node.id, message=message))
        else:
            message = (
                f"Node '{node.id}' has the unknown type '{node.type}'. Replace it with a "
                "node from the palette or delete it."
            )
            problems.append(Problem(code=UNKNOWN_NODE_TYPE, node_id=node.id, message=message))
    return problems


def _check_edges(
    edges: list[Edge], nodes: dict[str, Node], specs: dict[str, NodeSpec | None]
) -> tuple[list[Edge], list[Problem]]:
    """Check each edge's ends, ports and types.

    Returns the edges that count as wires into their target port, and the problems
    found. An edge is a wire when both nodes exist and its target port exists (or
    cannot be checked because a node's type is unknown), even if its source port
    or type is wrong: the user did connect that input.
    """
    wires: list[Edge] = []
    problems: list[Problem] = []
    for edge in edges:
        if edge.source not in nodes or edge.target not in nodes:
            missing = edge.source if edge.source not in nodes else edge.target
            problems.append(
                Problem(
                    code=DANGLING_EDGE,
                    edge_id=edge.id,
                    message=(
                        f"Edge {_edge_label(edge)} refers to node '{missing}', which does "
                        "not exist. Delete the edge."
                    ),
                )
            )
            continue
        source_spec, target_spec = specs[edge.source], specs[edge.target]
        if source_spec is None or target_spec is None:
            wires.append(edge)  # The unknown node itself is reported.
            continue
        source_node, target_node = nodes[edge.source], nodes[edge.target]
        if target_spec.input_port(edge.target_port, target_node.params) is not None:
            wires.append(edge)
        problem = _check_edge_ports(edge, source_node, source_spec, target_node, target_spec)
        if problem is not None:
            problems.append(problem)
    return wires, problems


def _check_edge_ports(
    edge: Edge,
    source_node: Node,
    source_spec: NodeSpec,
    target_node: Node,
    target_spec: NodeSpec,
) -> Problem | None:
    label = _edge_label(edge)

    def dangling(node_id: str, port: str, message: str) -> Problem:
        return Problem(
            code=DANGLING_EDGE, node_id=node_id, port=port, edge_id=edge.id, message=message
        )

    target_port = target_spec.input_port(edge.target_port, target_node.params)
    if target_port is None:
        param = target_spec.param(edge.target_port)
        if param is not None:
            return dangling(
                edge.target, edge.target_port,
                f"Edge {label} ends at '{edge.target_port}' of node '{edge.target}', which is "
                "a parameter and not an input port; type its value instead.",
            )
        names = ", ".join(port.name for port in target_spec.input_ports(target_node.params))
        return dangling(
            edge.target, edge.target_port,
            f"Edge {label} ends at input '{edge.target_port}', which node '{edge.target}' "
            f"({target_spec.title}) does not have; its inputs are: {names or 'none'}.",
        )

    path = PortPath.parse(edge.source_port)
    output = source_spec.output_port(path.port, source_node.params)
    if output is None:
        names = ", ".join(port.name for port in source_spec.output_ports(source_node.params))
        return dangling(
            edge.source, path.port,
            f"Edge {label} starts at output '{path.port}', which node '{edge.source}' "
            f"({source_spec.title}) does not have; its outputs are: {names or 'none'}.",
        )
    selected = select_port_type(output.type, path.steps)
    if selected is None:
        return dangling(
            edge.source, path.port,
            f"Edge {label} selects '{edge.source_port}', but output '{path.port}' is "
            f"{output.type}; only list outputs take an index such as '{path.port}.0'.",
        )

    compatibility = is_connection_compatible(selected, target_port.type)
    if not compatibility.ok:
        return Problem(
            code=TYPE_MISMATCH,
            node_id=edge.target,
            port=edge.target_port,
            edge_id=edge.id,
            message=(
                f"Edge {label}: {compatibility.reason}. Connect a {target_port.type} "
                f"output to '{edge.target_port}' instead."
            ),
        )
    return None


def _check_multiple_edges(
    edges: list[Edge], nodes: dict[str, Node], specs: dict[str, NodeSpec | None]
) -> list[Problem]:
    by_port: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in edges:
        by_port[(edge.target, edge.target_port)].append(edge)
    problems: list[Problem] = []
    for (target, port_name), port_edges in by_port.items():
        spec = specs[target]
        port = spec.input_port(port_name, nodes[target].params) if spec else None
        if port is None or port.accepts_many_edges or len(port_edges) < 2:
            continue
        sources = ", ".join(f"'{edge.source}.{edge.source_port}'" for edge in port_edges)
        problems.append(
            Problem(
                code=MULTIPLE_EDGES_INTO_PORT,
                node_id=target,
                port=port_name,
                message=(
                    f"Input '{port_name}' of node '{target}' has {len(port_edges)} connections "
                    f"(from {sources}) but takes one value. Remove all but one of them."
                ),
            )
        )
    return problems


def _is_set(value: object) -> bool:
    return value is not None and value != "" and value != []


def _check_required_inputs(
    nodes: Iterable[Node], specs: dict[str, NodeSpec | None], edges: list[Edge]
) -> list[Problem]:
    connected = {(edge.target, edge.target_port) for edge in edges}
    problems: list[Problem] = []
    for node in nodes:
        spec = specs[node.id]
        if spec is None:
            continue
        port_names: set[str] = set()
        for port in spec.input_ports(node.params):
            port_names.add(port.name)
            if not port.required or (node.id, port.name) in connected:
                continue
            if _is_set(node.params.get(port.name)):
                continue
            problems.append(
                Problem(
                    code=MISSING_REQUIRED_INPUT,
                    node_id=node.id,
                    port=port.name,
                    param=port.name if spec.param(port.name) else None,
                    message=_missing_input_message(node, port),
                )
            )
        for param in spec.params:
            if not param.required or param.name in port_names:
                continue
            if _is_set(node.params.get(param.name)) or _is_set(param.default):
                continue
            verb = "Add at least one item to" if param.type.is_list else "Type a value for"
            problems.append(
                Problem(
                    code=MISSING_REQUIRED_INPUT,
                    node_id=node.id,
                    param=param.name,
                    message=f"{verb} '{param.name}' of node '{node.id}'; it is required.",
                )
            )
        if spec.required_one_of and not any(
            _is_set(node.params.get(name)) for name in spec.required_one_of
        ):
            names = " or ".join(f"'{name}'" for name in spec.required_one_of)
            problems.append(
                Problem(
                    code=MISSING_REQUIRED_INPUT,
                    node_id=node.id,
                    param=spec.required_one_of[0],
                    message=f"Set {names} of node '{node.id}': choose an uploaded file or paste a URL.",
                )
            )
    return problems


def _missing_input_message(node: Node, port: PortSpec) -> str:
    name = port.name
    kind = port.type.kind
    if kind is ValueKind.ANY:
        return f"Connect the output to show to '{name}' of node '{node.id}'."
    if kind is ValueKind.TEXT:
        noun = "a prompt" if "prompt" in name else "a text"
        return f"Connect a text output to '{name}' of node '{node.id}' or type {noun}."
    if port.type.is_media:
        article = "an" if kind is ValueKind.IMAGE or kind is ValueKind.AUDIO else "a"
        return (
            f"Connect {article} {kind.value} output to '{name}' of node '{node.id}' "
            f"or paste {article} {kind.value} URL."
        )
    return f"Connect a {port.type} output to '{name}' of node '{node.id}' or set a value."


def _check_cycles(document: WorkflowDocument) -> list[Problem]:
    problems: list[Problem] = []
    for path in find_cycles(Dependencies.of(document)):
        arrows = " -> ".join(path)
        problems.append(
            Problem(
                code=CYCLE,
                node_id=path[0],
                path=path,
                message=f"Nodes {arrows} form a cycle; remove one of these connections.",
            )
        )
    return problems


def _check_batches(
    document: WorkflowDocument, catalog: NodeCatalog, limits: DocumentLimits
) -> list[Problem]:
    problems: list[Problem] = []
    for node_id, shape in infer_shapes(document, catalog).items():
        if shape.mismatch:
            lengths = ", ".join(
                f"{port}: {length}" for port, length in shape.batch_lengths.items()
            )
            problems.append(
                Problem(
                    code=BATCH_MISMATCH,
                    node_id=node_id,
                    message=(
                        f"Node '{node_id}' runs once per list item, but its lists have "
                        f"different lengths ({lengths}). Make them the same length or "
                        "use a single item for one of them."
                    ),
                )
            )
        elif shape.batch_count is not None and shape.batch_count > limits.max_batch_items:
            problems.append(
                Problem(
                    code=TOO_LARGE,
                    node_id=node_id,
                    message=(
                        f"Node '{node_id}' would run {shape.batch_count} times in a batch; "
                        f"the limit is {limits.max_batch_items}. Shorten the lists that "
                        "feed it."
                    ),
                )
            )
    return problems
