"""Export a falflow document as a fal workflow (the saved `{name, title, contents}` form).

fal endpoint nodes become `run` nodes. Text, number, seed, image-input and
text-list nodes become workflow inputs (`schema.input` fields, referenced as
`$input.<field>`). Output nodes become `display` nodes and entries of the
workflow `output`. Positions go to `metadata`. What fal cannot hold (utility node
types, labels, inline values hidden by a connection) is kept under
`metadata.<id>.falflow` so that `import_fal_workflow` restores it.

fal workflows cannot interpolate text or run a node once per list item, so
template nodes and batches (except of a one-item list) raise FalExportError.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import Edge, Node, WorkflowDocument
from falflow.graph.errors import FalExportError
from falflow.graph.fal_references import (
    DISPLAY_NODE,
    FAL_WORKFLOW_VERSION,
    FALFLOW_METADATA_KEY,
    INPUT_NODE_PORTS,
    INPUT_ROOT,
    RUN_NODE,
    looks_like_reference,
    unique_field_name,
)
from falflow.graph.ports import (
    PortPath,
    PortType,
    ValueKind,
    is_connection_compatible,
    select_port_type,
)
from falflow.graph.shapes import count_from_param
from falflow.graph.specs import NodeSpec
from falflow.graph.utility_specs import UTIL_NUMBER, UTIL_OUTPUT, UTIL_TEMPLATE, UTIL_TEXT_LIST


def _position(node: Node) -> dict[str, float]:
    return {"x": node.position.x, "y": node.position.y}


class _Exporter:
    def __init__(self, document: WorkflowDocument, catalog: NodeCatalog) -> None:
        self.document = document
        self.catalog = catalog
        self.nodes = document.node_map()
        self.reasons: list[str] = []
        self.input_fields: dict[str, str] = {}
        self.metadata: dict[str, Any] = {}

    def export(self, name: str, title: str) -> dict[str, Any]:
        self._check_node_kinds()
        self._name_input_fields()
        schema_input = self._schema_input()
        run_nodes = {
            node.id: self._run_node(node)
            for node in self.nodes.values()
            if self._is_run_node(node)
        }
        display_nodes, output, schema_output = self._display_nodes()
        if self.reasons:
            raise FalExportError(self.reasons)

        first_input = next(
            (self.nodes[node_id] for node_id in self.input_fields), None
        )
        self.metadata[INPUT_ROOT] = {
            "position": _position(first_input) if first_input else {"x": 0.0, "y": 0.0}
        }
        contents = {
            "name": name,
            "version": FAL_WORKFLOW_VERSION,
            "nodes": {**run_nodes, **display_nodes},
            "output": output,
            "schema": {"input": schema_input, "output": schema_output},
            "metadata": self.metadata,
        }
        return {"name": name, "title": title, "is_public": False, "contents": contents}

    @staticmethod
    def _is_exported_utility(node: Node) -> bool:
        return node.type in INPUT_NODE_PORTS or node.type == UTIL_OUTPUT

    def _is_run_node(self, node: Node) -> bool:
        spec = self.catalog.get(node.type)
        return spec.kind == "fal" if spec is not None else node.placeholder

    def _check_node_kinds(self) -> None:
        for node in self.nodes.values():
            spec = self.catalog.get(node.type)
            if spec is None and not node.placeholder:
                self.reasons.append(
                    f"Node '{node.id}' has the unknown type '{node.type}'; replace or delete it."
                )
            elif node.type == UTIL_TEMPLATE:
                self.reasons.append(
                    f"Node '{node.id}' (Template) has no fal workflow equivalent because "
                    "fal workflows cannot fill text templates; use an LLM node or type the "
                    "full text instead."
                )
            elif spec is not None and spec.kind == "utility" and not self._is_exported_utility(node):
                self.reasons.append(
                    f"Node '{node.id}' ({spec.title}) has no fal workflow equivalent; "
                    "remove it before exporting."
                )

    def _name_input_fields(self) -> None:
        used_names = set(self.nodes)
        for node in self.nodes.values():
            if node.type in INPUT_NODE_PORTS:
                used_names.discard(node.id)
                self.input_fields[node.id] = unique_field_name(node.id, used_names)

    def _schema_input(self) -> dict[str, Any]:
        # fal's `modelId` names the first run node that reads the input.
        consumers: dict[str, str] = {}
        for edge in self.document.edges:
            target = self.nodes.get(edge.target)
            if edge.source in self.input_fields and target is not None and self._is_run_node(target):
                consumers.setdefault(edge.source, edge.target)
        fields: dict[str, Any] = {}
        for node_id, field in self.input_fields.items():
            node = self.nodes[node_id]
            spec = self.catalog.get(node.type)
            params = spec.with_defaults(node.params) if spec is not None else dict(node.params)
            entry: dict[str, Any] = {
                "name": field,
                "label": node.label or (spec.title if spec is not None else field),
                "type": _input_type(node, params),
                "required": True,
            }
            default = _input_default(node, params)
            if default is not None:
                entry["default"] = default
            if node_id in consumers:
                entry["modelId"] = consumers[node_id]
            fields[field] = entry
            self.metadata[field] = {
                "position": _position(node),
                FALFLOW_METADATA_KEY: {
                    "node_id": node.id,
                    "type": node.type,
                    "params": node.params,
                    "label": node.label,
                },
            }
        return fields

    def _run_node(self, node: Node) -> dict[str, Any]:
        spec = self.catalog.get(node.type)
        inputs: dict[str, Any] = {
            name: value for name, value in node.params.items() if value is not None
        }
        for name, value in inputs.items():
            if looks_like_reference(value):
                self.reasons.append(
                    f"Param '{name}' of node '{node.id}' starts with '$', which fal reads as "
                    "a reference; rephrase the value."
                )
        shadowed: dict[str, Any] = {}
        source_ports: dict[str, list[str]] = {}
        depends: set[str] = set()
        for port_name, edges in _edges_by_port(self.document.incoming_edges(node.id)).items():
            port_type = _target_type(spec, node, port_name)
            references: list[str] = []
            for edge in edges:
                references += self._references(edge, port_type)
                depends.add(INPUT_ROOT if edge.source in self.input_fields else edge.source)
            if port_name in inputs:
                shadowed[port_name] = inputs[port_name]
            # NOTE: for a placeholder node the port type is unknown, so one edge is
            # written as a single reference even if fal had it in a one-item list.
            is_list = port_type.is_list if port_type is not None else len(references) > 1
            if is_list:
                inputs[port_name] = references
            elif references:
                inputs[port_name] = references[0]
            source_ports[port_name] = [edge.source_port for edge in edges]

        falflow_meta: dict[str, Any] = {"source_ports": source_ports}
        if node.label is not None:
            falflow_meta["label"] = node.label
        if shadowed:
            falflow_meta["shadowed_params"] = shadowed
        if node.placeholder:
            falflow_meta["placeholder"] = True
        self.metadata[node.id] = {"position": _position(node), FALFLOW_METADATA_KEY: falflow_meta}
        return {
            "id": node.id,
            "type": RUN_NODE,
            "depends": sorted(depends),
            "app": node.type,
            "input": inputs,
        }

    def _references(self, edge: Edge, target_type: PortType | None) -> list[str]:
        """Return the fal reference(s) for one edge.

        Types here are the declared ones: fal runs every node once, so a falflow
        batch is exportable only over a one-item list, which becomes index 0. A
        list of media feeding a list port expands to one `.url` reference per item.
        """
        path = PortPath.parse(edge.source_port)
        source = self.nodes.get(edge.source)
        if source is None:
            self._reject_edge(edge, f"comes from node '{edge.source}', which does not exist")
            return []
        from_input = edge.source in self.input_fields
        if from_input and path.port != INPUT_NODE_PORTS[source.type]:
            self._reject_edge(
                edge,
                f"uses output '{path.port}', but a fal workflow input contains only the node's "
                f"'{INPUT_NODE_PORTS[source.type]}' value",
            )
            return []
        root = INPUT_ROOT if from_input else edge.source
        head = self.input_fields[edge.source] if from_input else path.port
        steps = [str(step) for step in path.steps]
        verbatim = ["$" + ".".join([root, head, *steps])]

        spec = self.catalog.get(source.type)
        port = spec.output_port(path.port, source.params) if spec is not None else None
        selected = select_port_type(port.type, path.steps) if port is not None else None
        if spec is None or port is None or selected is None or target_type is None:
            return verbatim  # A placeholder end: types unknown, keep the path as written.
        length = count_from_param(source, spec, port) if selected.is_list and not path.steps else None

        if is_connection_compatible(selected, target_type).batch:
            if length != 1:
                self._reject_edge(
                    edge,
                    "runs its target once per list item, which fal workflows cannot do; "
                    "connect a single item (for example 'images.0') instead",
                )
                return []
            steps.append("0")
            selected = selected.element
            length = None
        needs_url = not from_input and selected.is_media
        if selected.is_list and target_type.is_list and needs_url:
            if length is None:
                self._reject_edge(edge, "passes a list of unknown length; connect its items one by one")
                return []
            prefix = ".".join([root, head, *steps])
            return [f"${prefix}.{index}.url" for index in range(length)]
        suffix = ".url" if needs_url and not selected.is_list else ""
        return ["$" + ".".join([root, head, *steps]) + suffix]

    def _reject_edge(self, edge: Edge, reason: str) -> None:
        self.reasons.append(
            f"Edge {edge.source}.{edge.source_port} -> {edge.target}.{edge.target_port} {reason}."
        )

    def _display_nodes(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        displays: dict[str, Any] = {}
        output: dict[str, Any] = {}
        schema_output: dict[str, Any] = {}
        used_keys: set[str] = set()
        for node in self.nodes.values():
            if node.type != UTIL_OUTPUT:
                continue
            key = unique_field_name(node.label or node.id, used_keys)
            fields: dict[str, Any] = {}
            depends: set[str] = set()
            for edge in self.document.incoming_edges(node.id):
                references = self._references(edge, PortType(ValueKind.ANY))
                if references:
                    fields[key] = references[0]
                    output[key] = references[0]
                    depends.add(INPUT_ROOT if edge.source in self.input_fields else edge.source)
            displays[node.id] = {
                "id": node.id,
                "type": DISPLAY_NODE,
                "depends": sorted(depends),
                "input": {},
                "fields": fields,
            }
            schema_output[key] = {"name": key, "label": node.label or key, "type": "string"}
            self.metadata[node.id] = {
                "position": _position(node),
                FALFLOW_METADATA_KEY: {"label": node.label, "output_key": key},
            }
        return displays, output, schema_output


def _edges_by_port(edges: list[Edge]) -> dict[str, list[Edge]]:
    grouped: dict[str, list[Edge]] = {}
    for edge in edges:
        grouped.setdefault(edge.target_port, []).append(edge)
    return grouped


def _target_type(spec: NodeSpec | None, node: Node, port_name: str) -> PortType | None:
    if spec is None:
        return None
    port = spec.input_port(port_name, node.params)
    return port.type if port is not None else None


def _input_type(node: Node, params: Mapping[str, Any]) -> Any:
    if node.type == UTIL_TEXT_LIST:
        return {"kind": "list", "elementType": "string"}
    if node.type == UTIL_NUMBER:
        return "integer" if params.get("integer") is True else "number"
    if INPUT_NODE_PORTS[node.type] == "seed":
        return "integer"
    return "string"


def _input_default(node: Node, params: Mapping[str, Any]) -> Any:
    port = INPUT_NODE_PORTS[node.type]
    if port == "text":
        return params.get("text")
    if port == "value":
        return params.get("value")
    if port == "seed":
        return params.get("seed")
    if port == "image":
        return params.get("url")
    return params.get("items")


def export_fal_workflow(
    document: WorkflowDocument, catalog: NodeCatalog, *, name: str, title: str
) -> dict[str, Any]:
    """Return `document` as a saved fal workflow: `{name, title, is_public, contents}`.

    Raises FalExportError listing every node or edge that fal cannot express.
    """
    return _Exporter(document, catalog).export(name, title)
