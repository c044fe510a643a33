"""Import a fal workflow JSON into a falflow document.

Accepts the saved form `{name, title, contents: {...}}` or the bare `contents`.
Nothing is dropped silently: what cannot be represented is kept as a literal
param or reported in `ImportResult.warnings`, and an endpoint that the catalog
does not know becomes a placeholder node that keeps its params (validation
reports it as `placeholder_node`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import Edge, Node, Position, WorkflowDocument
from falflow.graph.errors import FalImportError
from falflow.graph.fal_references import (
    DISPLAY_NODE,
    FALFLOW_METADATA_KEY,
    INPUT_NODE_PORTS,
    INPUT_ROOT,
    RUN_NODE,
    FalReference,
    parse_reference,
    unique_node_id,
)
from falflow.graph.ports import PortPath, PortType, ValueKind, select_port_type
from falflow.graph.specs import NodeSpec
from falflow.graph.utility_specs import (
    UTIL_IMAGE_INPUT,
    UTIL_NUMBER,
    UTIL_OUTPUT,
    UTIL_TEXT,
    UTIL_TEXT_LIST,
)

logger = logging.getLogger(__name__)

# Vertical gap between imported input nodes that have no stored position, in pixels.
_INPUT_SPACING = 140.0


@dataclass
class ImportResult:
    """The imported document and everything the import could not carry over exactly."""

    document: WorkflowDocument
    warnings: list[str] = field(default_factory=list)


@dataclass
class _PendingEdge:
    reference: FalReference
    target: str
    target_port: str
    source_port_override: str | None = None


def _mapping(value: Any, description: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FalImportError(f"{description} must be a JSON object; got {type(value).__name__}.")
    return value


class _Importer:
    def __init__(self, data: Mapping[str, Any], catalog: NodeCatalog) -> None:
        wrapped = data.get("contents")
        contents: Mapping[str, Any] = wrapped if isinstance(wrapped, dict) else data
        self.catalog = catalog
        self.raw_nodes = _mapping(contents.get("nodes"), "'nodes'")
        if not self.raw_nodes and "nodes" not in contents:
            raise FalImportError(
                "This is not a fal workflow: it has no 'nodes' object. Export the workflow "
                "from fal again, including its 'contents'."
            )
        schema = _mapping(contents.get("schema"), "'schema'")
        self.schema_input = _mapping(schema.get("input"), "'schema.input'")
        self.output = _mapping(contents.get("output"), "'output'")
        self.metadata = _mapping(contents.get("metadata"), "'metadata'")
        self.warnings: list[str] = []
        self.nodes: list[Node] = []
        self.pending: list[_PendingEdge] = []
        self.used_ids: set[str] = set()
        self.node_ids: dict[str, str] = {}
        self.input_nodes: dict[str, Node] = {}

    def run(self) -> ImportResult:
        for fal_id in self.raw_nodes:
            self.node_ids[fal_id] = unique_node_id(fal_id, self.used_ids)
        self._import_inputs()
        covered: set[str] = set()
        for fal_id, raw in self.raw_nodes.items():
            raw_node = _mapping(raw, f"Node '{fal_id}'")
            kind = raw_node.get("type")
            if kind == RUN_NODE:
                self._import_run_node(fal_id, raw_node)
            elif kind == DISPLAY_NODE:
                covered |= self._import_display_node(fal_id, raw_node)
            else:
                raise FalImportError(
                    f"Node '{fal_id}' has type {kind!r}; fal workflows allow only 'run' and "
                    "'display' nodes (inputs belong in 'schema.input')."
                )
        self._import_outputs(covered)
        edges = self._build_edges()
        document = WorkflowDocument(nodes=self.nodes, edges=edges)
        logger.info(
            "graph.fal_import.completed",
            extra={"nodes": len(self.nodes), "edges": len(edges), "warnings": len(self.warnings)},
        )
        return ImportResult(document=document, warnings=self.warnings)

    # Inputs -------------------------------------------------------------------------

    def _import_inputs(self) -> None:
        root_position = self._position(INPUT_ROOT)
        for index, (field_name, raw) in enumerate(self.schema_input.items()):
            definition = raw if isinstance(raw, dict) else {}
            stored = self._falflow_metadata(field_name)
            if stored.get("type") in INPUT_NODE_PORTS and isinstance(stored.get("params"), dict):
                node_type: str = stored["type"]
                params: dict[str, Any] = dict(stored["params"])
                label = stored.get("label")
                base_id = str(stored.get("node_id") or field_name)
            else:
                node_type, params = self._infer_input_node(field_name, definition)
                label = definition.get("label") or None
                base_id = field_name
            if field_name in self.metadata:
                position = self._position(field_name)
            else:
                position = Position(x=root_position.x, y=root_position.y + _INPUT_SPACING * index)
            node = Node(
                id=unique_node_id(base_id, self.used_ids),
                type=node_type,
                params=params,
                position=position,
                label=label if isinstance(label, str) else None,
            )
            self.nodes.append(node)
            self.input_nodes[field_name] = node

    def _infer_input_node(self, field_name: str, definition: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        declared = definition.get("type")
        default = definition.get("default")
        if isinstance(declared, dict) and declared.get("kind") == "list":
            items = default if isinstance(default, list) else []
            return UTIL_TEXT_LIST, {"items": items}
        if declared in ("number", "integer"):
            params: dict[str, Any] = {"value": default if isinstance(default, int | float) else 0}
            if declared == "integer":
                params["integer"] = True
            return UTIL_NUMBER, params
        consumer = self._consumer_type(field_name)
        if consumer is not None and consumer.kind is ValueKind.IMAGE:
            return UTIL_IMAGE_INPUT, ({"url": default} if isinstance(default, str) else {})
        if consumer is not None and consumer.is_media:
            self.warnings.append(
                f"Input '{field_name}' feeds a {consumer.kind.value} input, and falflow has no "
                f"{consumer.kind.value} input node yet; it was imported as a text node. "
                "Replace it before running."
            )
        if declared not in (None, "string"):
            self.warnings.append(
                f"Input '{field_name}' has type {declared!r}; it was imported as a text node."
            )
        return UTIL_TEXT, {"text": default if isinstance(default, str) else ""}

    def _consumer_type(self, field_name: str) -> PortType | None:
        """Return the type of the first catalog input that reads `$input.<field_name>`."""
        for raw in self.raw_nodes.values():
            if not isinstance(raw, dict) or raw.get("type") != RUN_NODE:
                continue
            spec = self.catalog.get(str(raw.get("app")))
            inputs = raw.get("input")
            if spec is None or not isinstance(inputs, dict):
                continue
            for name, value in inputs.items():
                values = value if isinstance(value, list) else [value]
                for item in values:
                    reference = parse_reference(item)
                    if reference and reference.root == INPUT_ROOT and reference.segments[:1] == (field_name,):
                        port = spec.input_port(name, {})
                        if port is not None:
                            return port.type
        return None

    # Run nodes ----------------------------------------------------------------------

    def _import_run_node(self, fal_id: str, raw: Mapping[str, Any]) -> None:
        app = raw.get("app")
        if not isinstance(app, str) or not app:
            raise FalImportError(f"Run node '{fal_id}' has no 'app'; set it to a fal endpoint id.")
        node_id = self.node_ids[fal_id]
        spec = self.catalog.get(app)
        stored = self._falflow_metadata(fal_id)
        params: dict[str, Any] = {}
        referenced: set[str] = set()
        inputs = _mapping(raw.get("input"), f"'input' of node '{fal_id}'")
        stored_ports = stored.get("source_ports")
        if not isinstance(stored_ports, dict):
            stored_ports = {}
        for name, value in inputs.items():
            referenced |= self._read_input_value(node_id, name, value, params, stored_ports.get(name))
        shadowed = stored.get("shadowed_params")
        if isinstance(shadowed, dict):
            params.update(shadowed)

        placeholder = spec is None
        if placeholder:
            self.warnings.append(
                f"Node '{fal_id}' uses {app}, which is not in the node catalog; it was "
                "imported as a placeholder that keeps its parameters."
            )
        self._warn_ordering_only(fal_id, raw.get("depends"), referenced)
        label = stored.get("label")
        self.nodes.append(
            Node(
                id=node_id,
                type=app,
                params=params,
                position=self._position(fal_id),
                label=label if isinstance(label, str) else None,
                placeholder=placeholder,
            )
        )

    def _read_input_value(
        self,
        node_id: str,
        name: str,
        value: Any,
        params: dict[str, Any],
        stored_ports: Any,
    ) -> set[str]:
        """Turn references in one input value into pending edges; keep literals as params.

        Returns the roots referenced.
        """
        overrides = stored_ports if isinstance(stored_ports, list) else []
        reference = parse_reference(value)
        if reference is not None:
            override = overrides[0] if len(overrides) == 1 and isinstance(overrides[0], str) else None
            self.pending.append(_PendingEdge(reference, node_id, name, override))
            return {reference.root}
        if isinstance(value, list):
            references = [parse_reference(item) for item in value]
            found = [item for item in references if item is not None]
            if found:
                literals = [item for item, ref in zip(value, references, strict=True) if ref is None]
                if literals:
                    params[name] = literals
                    self.warnings.append(
                        f"Input '{name}' of node '{node_id}' mixes references and literal "
                        "values; the literals were kept as the inline value, which the "
                        "connections override."
                    )
                use_overrides = len(overrides) == len(found)
                for index, item in enumerate(found):
                    override = overrides[index] if use_overrides else None
                    self.pending.append(
                        _PendingEdge(item, node_id, name, override if isinstance(override, str) else None)
                    )
                return {item.root for item in found}
        if _contains_reference(value):
            self.warnings.append(
                f"Input '{name}' of node '{node_id}' has a reference inside an object, which "
                "falflow cannot connect; it was kept as literal text."
            )
        params[name] = value
        return set()

    def _warn_ordering_only(self, fal_id: str, depends: Any, referenced: set[str]) -> None:
        if not isinstance(depends, list):
            return
        for dependency in depends:
            if dependency == INPUT_ROOT or dependency in referenced:
                continue
            if dependency not in self.raw_nodes:
                self.warnings.append(
                    f"Node '{fal_id}' depends on '{dependency}', which does not exist; the "
                    "dependency was ignored."
                )
            else:
                self.warnings.append(
                    f"Node '{fal_id}' depends on '{dependency}' without using its output; "
                    "falflow orders nodes by their connections, so this ordering was not kept."
                )

    # Display nodes and outputs --------------------------------------------------------

    def _import_display_node(self, fal_id: str, raw: Mapping[str, Any]) -> set[str]:
        """Create one output node per display field; return the references shown."""
        fields = raw.get("fields")
        if isinstance(fields, list):
            items = [(f"{fal_id}_{index}", value) for index, value in enumerate(fields)]
        else:
            items = list(_mapping(fields, f"'fields' of display node '{fal_id}'").items())
        stored = self._falflow_metadata(fal_id)
        displayed: set[str] = set()
        for index, (key, value) in enumerate(items):
            reference = parse_reference(value)
            if len(items) == 1:
                node_id = self.node_ids[fal_id]
            else:
                node_id = unique_node_id(f"{fal_id}-{key}", self.used_ids)
            label = stored.get("label") if len(items) == 1 and "label" in stored else key
            position = self._position(fal_id)
            self.nodes.append(
                Node(
                    id=node_id,
                    type=UTIL_OUTPUT,
                    position=Position(x=position.x, y=position.y + _INPUT_SPACING * index),
                    label=label if isinstance(label, str) else None,
                )
            )
            if reference is None:
                self.warnings.append(
                    f"Display field '{key}' of node '{fal_id}' is not a reference; its output "
                    "node was left unconnected."
                )
                continue
            displayed.add(str(reference))
            self.pending.append(_PendingEdge(reference, node_id, "value"))
        if not items:
            self.nodes.append(
                Node(id=self.node_ids[fal_id], type=UTIL_OUTPUT, position=self._position(fal_id))
            )
        return displayed

    def _import_outputs(self, covered: set[str]) -> None:
        for index, (key, value) in enumerate(self.output.items()):
            reference = parse_reference(value)
            if reference is None:
                self.warnings.append(f"Workflow output '{key}' is not a reference and was skipped.")
                continue
            if str(reference) in covered:
                continue
            node_id = unique_node_id(f"output-{key}", self.used_ids)
            self.nodes.append(
                Node(
                    id=node_id, type=UTIL_OUTPUT, label=key,
                    position=Position(x=0, y=_INPUT_SPACING * index),
                )
            )
            self.pending.append(_PendingEdge(reference, node_id, "value"))

    # Edges ------------------------------------------------------------------------------

    def _build_edges(self) -> list[Edge]:
        nodes = {node.id: node for node in self.nodes}
        edges: list[Edge] = []
        for index, pending in enumerate(self.pending, start=1):
            source, source_port = self._edge_source(pending, nodes)
            edges.append(
                Edge(
                    id=f"e{index}",
                    source=source,
                    source_port=pending.source_port_override or source_port,
                    target=pending.target,
                    target_port=pending.target_port,
                )
            )
        return edges

    def _edge_source(self, pending: _PendingEdge, nodes: Mapping[str, Node]) -> tuple[str, str]:
        reference = pending.reference
        if reference.root == INPUT_ROOT:
            field_name = reference.segments[0] if reference.segments else ""
            node = self.input_nodes.get(field_name)
            if node is None:
                node = Node(
                    id=unique_node_id(field_name or "input", self.used_ids),
                    type=UTIL_TEXT,
                    params={"text": ""},
                    position=self._position(INPUT_ROOT),
                )
                self.nodes.append(node)
                self.input_nodes[field_name] = node
                self.warnings.append(
                    f"Reference {reference} names an input missing from 'schema.input'; a "
                    "text node was created for it."
                )
            steps = ".".join(reference.segments[1:])
            port = INPUT_NODE_PORTS[node.type]
            return node.id, f"{port}.{steps}" if steps else port

        source = self.node_ids.get(reference.root)
        if source is None:
            self.warnings.append(
                f"Reference {reference} names node '{reference.root}', which does not exist; "
                "the connection was kept and validation will report it."
            )
            source = reference.root
        if not reference.segments:
            self.warnings.append(
                f"Reference {reference} points at a whole node result; falflow connects "
                "single outputs, so fix this connection."
            )
            return source, "result"
        segments = list(reference.segments)
        spec = self.catalog.get(nodes[source].type) if source in nodes else None
        if segments[-1] == "url" and len(segments) > 1 and _selects_media(spec, segments[:-1]):
            segments.pop()  # A media value feeds `*_url` inputs as its URL.
        return source, ".".join(segments)

    # Metadata ---------------------------------------------------------------------------

    def _position(self, key: str) -> Position:
        entry = self.metadata.get(key)
        raw = entry.get("position") if isinstance(entry, dict) else None
        if isinstance(raw, dict):
            x, y = raw.get("x"), raw.get("y")
            if isinstance(x, int | float) and isinstance(y, int | float):
                return Position(x=float(x), y=float(y))
        return Position(x=0, y=0)

    def _falflow_metadata(self, key: str) -> dict[str, Any]:
        entry = self.metadata.get(key)
        stored = entry.get(FALFLOW_METADATA_KEY) if isinstance(entry, dict) else None
        return stored if isinstance(stored, dict) else {}


def _selects_media(spec: NodeSpec | None, segments: list[str]) -> bool:
    if spec is None:
        return False
    path = PortPath.parse(".".join(segments))
    port = spec.output_port(path.port, {})
    if port is None:
        return False
    selected = select_port_type(port.type, path.steps)
    return selected is not None and selected.is_media and not selected.is_list


def _contains_reference(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_contains_reference(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_reference(item) for item in value)
    return parse_reference(value) is not None


def import_fal_workflow(data: Mapping[str, Any], catalog: NodeCatalog) -> ImportResult:
    """Convert a fal workflow JSON into a document plus import warnings.

    Raises FalImportError when `data` is not a fal workflow at all (no `nodes`
    object, a node type other than run/display, a run node without `app`).
    """
    if not isinstance(data, Mapping):
        raise FalImportError(f"A fal workflow must be a JSON object; got {type(data).__name__}.")
    return _Importer(data, catalog).run()
