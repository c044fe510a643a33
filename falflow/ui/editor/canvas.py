"""The Python wrapper of the hand-written React Flow editor in `assets/flow/FalFlowCanvas.jsx`.

The browser owns the live graph and reports one semantic change per user action through
`on_graph_change`. The server replaces the browser's graph only by bumping `graph_version`
(with `graph` holding the new document), so status pushes through `node_status` and
problem outlines through `node_checks` never reset positions.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.utils.imports import ImportVar
from reflex_base.vars import VarData
from reflex_base.vars.base import Var

# Reflex 0.10.1 prod serves /api on the page's origin, but dev serves it on the backend port.
# The browser therefore builds API URLs from the backend origin in both modes.
API_ORIGIN: Var[str] = Var(
    _js_expr="getBackendURL(env.PING).origin",
    _var_data=VarData(
        imports={
            "$/utils/state": "getBackendURL",
            "$/env.json": ImportVar(tag="env", is_default=True),
        }
    ),
).to(str)


def _change_payload(change: Var[dict[str, Any]]) -> tuple[Var[dict[str, Any]]]:
    return (change,)


class FalFlowCanvas(rx.Component):
    """Palette, canvas, custom nodes, keyboard shortcuts and the browser-side undo history."""

    library = "$/public/flow/FalFlowCanvas.jsx"
    tag = "FalFlowCanvas"
    is_default = True
    lib_dependencies: list[str] = ["@xyflow/react@12.12.1"]

    # The document to show whenever `graph_version` changes.
    graph: Var[dict[str, Any]]
    graph_version: Var[int]
    workflow_id: Var[str]
    # Node types as `catalog_view.palette_entry` returns them.
    catalog: Var[list[dict[str, Any]]]
    # `falflow.graph.ports.compatibility_table()`.
    compatibility: Var[dict[str, Any]]
    # Node id -> run summary (`run_summary.new_node_summary` shape).
    node_status: Var[dict[str, Any]]
    # Node id -> problems, estimated credits and dynamic ports (`checks.DocumentChecks`).
    node_checks: Var[dict[str, Any]]
    api_base: Var[str]
    # `{"node_id": ..., "nonce": ...}`: centre the canvas on a node when the nonce changes.
    focus_request: Var[dict[str, Any]]
    read_only: Var[bool]

    on_graph_change: rx.EventHandler[_change_payload]
    on_run: rx.EventHandler[_change_payload]
    # A click on a node's output preview: `{"asset_id": ..., "kind": ...}`. Without a
    # handler the preview opens the file in a new tab.
    on_preview: rx.EventHandler[_change_payload]


fal_flow_canvas = FalFlowCanvas.create
