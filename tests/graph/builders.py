"""Builders for small documents, shared by the graph tests."""

from __future__ import annotations

from typing import Any

from falflow.graph.document import Edge, Node, WorkflowDocument


def node(node_id: str, node_type: str, **params: Any) -> Node:
    return Node(id=node_id, type=node_type, params=params)


def edge(source: str, target: str, *, out: str = "text", into: str = "prompt") -> Edge:
    """Build an edge `source.out -> target.into` (defaults fit text -> prompt)."""
    return Edge(source=source, source_port=out, target=target, target_port=into)


def document(nodes: list[Node], edges: list[Edge] | None = None) -> WorkflowDocument:
    return WorkflowDocument(nodes=nodes, edges=edges or [])
