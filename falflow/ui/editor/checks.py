"""Validation problems and cost estimates of a document, shaped for the editor.

The problems list shows every problem. The canvas receives them grouped per node, so it can
outline the node, port or param where each problem sits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from falflow.graph.catalog import NodeCatalog
from falflow.graph.cost import estimate_workflow
from falflow.graph.document import WorkflowDocument
from falflow.graph.errors import GraphError
from falflow.graph.validation import validate_workflow

logger = logging.getLogger("falflow.ui.editor")


@dataclass(frozen=True)
class DocumentChecks:
    """The editor's view of a document's problems and costs.

    `node_checks` maps a node id to its `problems`, its estimated `credits`, its
    `batch_count` (None while unknown) and, for node types whose ports depend on their
    params, the current `inputs` and `outputs`.
    """

    problems: list[dict[str, Any]] = field(default_factory=list)
    node_checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    total_credits: int = 0
    estimated: bool = False


def check_document(document: WorkflowDocument, catalog: NodeCatalog, *, margin_bps: int) -> DocumentChecks:
    """Validate and estimate `document`; the estimate is 0 when the graph cannot be priced."""
    nodes = document.node_map()
    node_checks: dict[str, dict[str, Any]] = {
        node_id: {"problems": [], "credits": 0, "batch_count": 1} for node_id in nodes
    }
    problems: list[dict[str, Any]] = []
    for problem in validate_workflow(document, catalog):
        entry = problem.model_dump()
        node = nodes.get(problem.node_id or "")
        entry["node_title"] = _node_title(node.label if node else None, node.type if node else None, catalog)
        problems.append(entry)
        if problem.node_id in node_checks:
            node_checks[problem.node_id]["problems"].append(
                {"code": problem.code, "port": problem.port, "param": problem.param, "message": problem.message}
            )

    total, estimated = 0, False
    try:
        estimate = estimate_workflow(document, catalog, margin_bps=margin_bps)
    except GraphError as exc:
        # A cycle or a similar graph error is already a validation problem; the estimate waits for the fix.
        logger.info("editor.estimate.skipped", extra={"error": str(exc)})
    else:
        total, estimated = estimate.total_credits, estimate.estimated
        for node_id, node_estimate in estimate.nodes.items():
            if node_id in node_checks:
                node_checks[node_id]["credits"] = node_estimate.credits
                node_checks[node_id]["batch_count"] = node_estimate.batch_count

    for node_id, node in nodes.items():
        spec = catalog.get(node.type)
        if spec is not None and (spec.template_param or spec.integer_switch_param):
            node_checks[node_id]["inputs"] = [_port(p) for p in spec.input_ports(node.params)]
            node_checks[node_id]["outputs"] = [_port(p) for p in spec.output_ports(node.params)]
    return DocumentChecks(problems=problems, node_checks=node_checks, total_credits=total, estimated=estimated)


def _port(port: Any) -> dict[str, Any]:
    return {"name": port.name, "type": str(port.type), "required": port.required}


def _node_title(label: str | None, node_type: str | None, catalog: NodeCatalog) -> str:
    if label:
        return label
    if node_type is None:
        return "Workflow"
    spec = catalog.get(node_type)
    return spec.title if spec is not None else node_type
