"""Semantic edits that the browser sends, applied to the authoritative workflow document.

The canvas reports one change per user action (a drag, a connection, a deletion, a
debounced param edit, a paste, an undo). Every change arrives from the browser, so it is
parsed strictly here and re-checked against the catalog: an edge whose port types do not
match is rejected even if the browser allowed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import MAX_EDGES, MAX_NODES, NODE_ID_PATTERN, Edge, Node, Position, WorkflowDocument
from falflow.graph.ports import PortPath, is_connection_compatible, select_port_type
from falflow.graph.specs import NodeSpec
from falflow.kit.errors import InvalidInputError
from falflow.workflows.service import parse_document

MAX_LABEL_LENGTH = 200


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The `graph_version` the canvas showed when the user acted; older means the canvas missed a replacement.
    graph_version: int | None = None


class NodeMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=NODE_ID_PATTERN)
    x: float = Field(allow_inf_nan=False)
    y: float = Field(allow_inf_nan=False)


class MoveChange(_Change):
    """Nodes dropped at new positions (one change per drag, several nodes when a selection moves)."""

    kind: Literal["move"]
    nodes: list[NodeMove] = Field(min_length=1, max_length=MAX_NODES)


class ConnectChange(_Change):
    kind: Literal["connect"]
    id: str | None = Field(default=None, max_length=300)
    source: str = Field(pattern=NODE_ID_PATTERN)
    source_port: str = Field(min_length=1, max_length=200)
    target: str = Field(pattern=NODE_ID_PATTERN)
    target_port: str = Field(min_length=1, max_length=200)


class RemoveChange(_Change):
    """Deleted nodes (their edges go with them) and deleted edges, by id or `edge_key`."""

    kind: Literal["remove"]
    nodes: list[str] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[str] = Field(default_factory=list, max_length=MAX_EDGES)


class AddChange(_Change):
    """New nodes from the palette or a paste, with the edges among them."""

    kind: Literal["add"]
    nodes: list[Node] = Field(min_length=1, max_length=MAX_NODES)
    edges: list[Edge] = Field(default_factory=list, max_length=MAX_EDGES)


class ParamsChange(_Change):
    """Inline values of one node; a null value removes the param so its default applies."""

    kind: Literal["params"]
    node_id: str = Field(pattern=NODE_ID_PATTERN)
    params: dict[str, Any] = Field(min_length=1)


class LabelChange(_Change):
    kind: Literal["label"]
    node_id: str = Field(pattern=NODE_ID_PATTERN)
    label: str | None = Field(default=None, max_length=MAX_LABEL_LENGTH)


class ReplaceChange(_Change):
    """A whole document from the browser's undo or redo history."""

    kind: Literal["replace"]
    document: dict[str, Any]
    reason: Literal["undo", "redo"]


GraphChange = Annotated[
    MoveChange | ConnectChange | RemoveChange | AddChange | ParamsChange | LabelChange | ReplaceChange,
    Field(discriminator="kind"),
]
_CHANGE_ADAPTER: TypeAdapter[GraphChange] = TypeAdapter(GraphChange)


@dataclass(frozen=True)
class AppliedChange:
    """The document after a change, and the note stored with the saved version."""

    document: WorkflowDocument
    note: str


def edge_key(edge: Edge) -> str:
    """Return the edge's id, or for an edge without one the key the canvas gives it."""
    return edge.id or f"{edge.source}:{edge.source_port}->{edge.target}:{edge.target_port}"


def parse_change(raw: object) -> GraphChange:
    """Parse a change sent by the canvas, or raise 422 naming the first bad field."""
    try:
        return _CHANGE_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "change"
        raise InvalidInputError(
            f"The editor sent an invalid change ({location}: {first['msg']}); reload the page to resynchronise.",
            errors=[{"field": f"change.{location}", "value": None, "message": first["msg"]}],
        ) from exc


def apply_change(document: WorkflowDocument, change: GraphChange, catalog: NodeCatalog) -> AppliedChange:
    """Return a new document with `change` applied; the input document is not modified."""
    result = document.model_copy(deep=True)
    match change:
        case MoveChange():
            return AppliedChange(_move(result, change), "moved nodes")
        case ConnectChange():
            return AppliedChange(_connect(result, change, catalog), f"connected {change.source} to {change.target}")
        case RemoveChange():
            return AppliedChange(_remove(result, set(change.nodes), set(change.edges)), "deleted nodes or edges")
        case AddChange():
            return AppliedChange(_add(result, change, catalog), f"added {len(change.nodes)} node(s)")
        case ParamsChange():
            return AppliedChange(_set_params(result, change, catalog), f"edited {change.node_id}")
        case LabelChange():
            return AppliedChange(_set_label(result, change), f"renamed node {change.node_id}")
        case ReplaceChange():
            return AppliedChange(parse_document(change.document), change.reason)
    raise AssertionError(f"unhandled change {change!r}")


def _node(document: WorkflowDocument, node_id: str, field: str) -> Node:
    node = document.node_map().get(node_id)
    if node is None:
        raise _rejected(field, node_id, f"Node '{node_id}' is not in this workflow any more; reload the page.")
    return node


def _spec(catalog: NodeCatalog, node: Node, field: str) -> NodeSpec:
    spec = catalog.get(node.type)
    if spec is None:
        raise _rejected(field, node.type, f"Node '{node.id}' has type '{node.type}', which the node catalog does not contain.")
    return spec


def _move(document: WorkflowDocument, change: MoveChange) -> WorkflowDocument:
    for moved in change.nodes:
        _node(document, moved.id, "nodes.id").position = Position(x=moved.x, y=moved.y)
    return document


def _connect(document: WorkflowDocument, change: ConnectChange, catalog: NodeCatalog) -> WorkflowDocument:
    edge = Edge(
        id=change.id, source=change.source, source_port=change.source_port,
        target=change.target, target_port=change.target_port,
    )
    takes_many = _check_edge(document, edge, catalog)
    if any(edge_key(existing) == edge_key(edge) or _same_wire(existing, edge) for existing in document.edges):
        return document
    if not takes_many:
        # A single-value input takes one edge: the new connection replaces the old one.
        document.edges = [e for e in document.edges if not (e.target == edge.target and e.target_port == edge.target_port)]
    document.edges.append(edge)
    return document


def _same_wire(left: Edge, right: Edge) -> bool:
    return (left.source, left.source_port, left.target, left.target_port) == (
        right.source, right.source_port, right.target, right.target_port,
    )


def _check_edge(document: WorkflowDocument, edge: Edge, catalog: NodeCatalog) -> bool:
    """Reject an edge between unknown ports or of incompatible types; return whether its input takes many edges."""
    if edge.source == edge.target:
        raise _rejected("target", edge.target, f"Node '{edge.source}' cannot feed itself; connect it to another node.")
    source = _node(document, edge.source, "source")
    target = _node(document, edge.target, "target")
    source_spec = _spec(catalog, source, "source")
    target_spec = _spec(catalog, target, "target")
    path = PortPath.parse(edge.source_port)
    output = source_spec.output_port(path.port, source.params)
    if output is None:
        raise _rejected("source_port", edge.source_port, f"{source_spec.title} has no output '{path.port}'.")
    source_type = select_port_type(output.type, path.steps)
    if source_type is None:
        raise _rejected("source_port", edge.source_port, f"'{edge.source_port}' does not select a value of output '{path.port}'.")
    target_port = target_spec.input_port(edge.target_port, target.params)
    if target_port is None:
        raise _rejected("target_port", edge.target_port, f"{target_spec.title} has no input '{edge.target_port}'.")
    compatibility = is_connection_compatible(source_type, target_port.type)
    if not compatibility.ok:
        raise _rejected(
            "target_port", edge.target_port,
            f"Connection rejected: {compatibility.reason} ({source.id}.{edge.source_port} to {target.id}.{edge.target_port}).",
        )
    return target_port.accepts_many_edges


def _remove(document: WorkflowDocument, node_ids: set[str], edge_keys: set[str]) -> WorkflowDocument:
    document.nodes = [node for node in document.nodes if node.id not in node_ids]
    document.edges = [
        edge for edge in document.edges
        if edge.source not in node_ids and edge.target not in node_ids and edge_key(edge) not in edge_keys
    ]
    return document


def _add(document: WorkflowDocument, change: AddChange, catalog: NodeCatalog) -> WorkflowDocument:
    taken_ids = set(document.node_map())
    for node in change.nodes:
        if node.id in taken_ids:
            raise _rejected("nodes.id", node.id, f"A node with id '{node.id}' already exists; reload the page and add it again.")
        if node.placeholder or node.type not in catalog:
            raise _rejected("nodes.type", node.type, f"'{node.type}' is not a node type of the catalog; pick one from the palette.")
        taken_ids.add(node.id)
    if len(document.nodes) + len(change.nodes) > MAX_NODES:
        raise _rejected("nodes", len(change.nodes), f"A workflow may contain at most {MAX_NODES} nodes; delete some first.")
    document.nodes.extend(change.nodes)
    for edge in change.edges:
        _check_edge(document, edge, catalog)
        document.edges.append(edge)
    return document


def _set_params(document: WorkflowDocument, change: ParamsChange, catalog: NodeCatalog) -> WorkflowDocument:
    node = _node(document, change.node_id, "node_id")
    spec = _spec(catalog, node, "node_id")
    allowed = _param_names(spec, node, change.params)
    for name, value in change.params.items():
        if name not in allowed:
            raise _rejected(f"params.{name}", name, f"{spec.title} has no param '{name}'; the allowed names are {', '.join(sorted(allowed))}.")
        if value is None:
            node.params.pop(name, None)
        else:
            node.params[name] = value
    return document


def _param_names(spec: NodeSpec, node: Node, incoming: Mapping[str, Any]) -> set[str]:
    """Return the params a node may hold: the spec's params and its input ports (template placeholders)."""
    names = {param.name for param in spec.params}
    # A template edited in this same change adds placeholder inputs that are valid at once.
    params_after = {**node.params, **{name: value for name, value in incoming.items() if value is not None}}
    names |= {port.name for port in spec.input_ports(params_after)}
    return names


def _set_label(document: WorkflowDocument, change: LabelChange) -> WorkflowDocument:
    node = _node(document, change.node_id, "node_id")
    label = (change.label or "").strip()
    node.label = label or None
    return document


def _rejected(field: str, value: object, detail: str) -> InvalidInputError:
    scalar = value if isinstance(value, (str, int, float, bool)) else None
    return InvalidInputError(detail, errors=[{"field": field, "value": scalar, "message": detail}])
