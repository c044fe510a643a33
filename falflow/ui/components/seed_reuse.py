""""Reuse seed": put an asset's seed on the node that made it, as a new workflow version."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from falflow.context import get_context
from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import WorkflowDocument
from falflow.kit.errors import InvalidInputError
from falflow.workflows import service as workflows
from falflow.workflows.endpoints import get_catalog

logger = logging.getLogger("falflow.ui")

SEED_PARAM = "seed"


@dataclass(frozen=True)
class SeedChange:
    workflow_id: uuid.UUID
    version: int
    # Edges into the seed port that were removed, because a wired value overrides the param.
    removed_edges: int


def document_with_seed(document: WorkflowDocument, node_id: str, seed: int, catalog: NodeCatalog) -> tuple[WorkflowDocument, int]:
    """Return a copy of `document` whose node `node_id` has `seed`, and how many seed edges were dropped.

    Raises InvalidInputError when the node is gone or its type takes no seed.
    """
    node = document.node_map().get(node_id)
    if node is None:
        raise InvalidInputError(
            f"Node '{node_id}' is no longer in this workflow, so its seed cannot be set; "
            "open the run and use \"Rerun with changes\" to restore the graph that made this asset.",
            errors=[{"field": "node_id", "value": node_id, "message": "node_id: not in the workflow"}],
        )
    spec = catalog.get(node.type)
    if spec is None or all(param.name != SEED_PARAM for param in spec.params):
        raise InvalidInputError(
            f"Node '{node_id}' ({node.type}) has no seed parameter, so the seed cannot be reused.",
            errors=[{"field": "node_id", "value": node_id, "message": "node_id: the node type takes no seed"}],
        )
    updated = document.model_copy(deep=True)
    target = updated.node_map()[node_id]
    target.params[SEED_PARAM] = seed
    kept = [edge for edge in updated.edges if not (edge.target == node_id and edge.target_port == SEED_PARAM)]
    removed = len(updated.edges) - len(kept)
    updated.edges = kept
    return updated, removed


def reuse_seed(owner_id: uuid.UUID, workflow_id: uuid.UUID, node_id: str, seed: int) -> SeedChange:
    """Save the workflow with `seed` on `node_id`, guarded by the version just read (409 if it moved)."""
    with get_context().database.write_session() as session:
        workflow = workflows.get_workflow(session, owner_id, workflow_id)
        document = workflows.parse_document(workflow.document)
        updated, removed = document_with_seed(document, node_id, seed, get_catalog())
        saved = workflows.save_workflow(
            session, owner_id, workflow_id, base_version=workflow.version, document=updated,
            note=f"reused seed {seed} on {node_id}",
        )
        change = SeedChange(workflow_id=saved.id, version=saved.version, removed_edges=removed)
    logger.info("ui.seed.reused", extra={"workflow_id": str(workflow_id), "node_id": node_id, "version": change.version})
    return change
