"""Validation problems and their stable codes.

Codes are part of the public API: the editor maps them to badges and API clients
branch on them, so existing codes never change meaning.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

UNKNOWN_NODE_TYPE = "unknown_node_type"
PLACEHOLDER_NODE = "placeholder_node"
MISSING_REQUIRED_INPUT = "missing_required_input"
TYPE_MISMATCH = "type_mismatch"
INVALID_PARAM = "invalid_param"
CYCLE = "cycle"
DANGLING_EDGE = "dangling_edge"
DUPLICATE_ID = "duplicate_id"
MULTIPLE_EDGES_INTO_PORT = "multiple_edges_into_port"
TOO_LARGE = "too_large"
BATCH_MISMATCH = "batch_mismatch"

PROBLEM_CODES = frozenset(
    {
        UNKNOWN_NODE_TYPE,
        PLACEHOLDER_NODE,
        MISSING_REQUIRED_INPUT,
        TYPE_MISMATCH,
        INVALID_PARAM,
        CYCLE,
        DANGLING_EDGE,
        DUPLICATE_ID,
        MULTIPLE_EDGES_INTO_PORT,
        TOO_LARGE,
        BATCH_MISMATCH,
    }
)


class Problem(BaseModel):
    """One reason a workflow cannot run, located as precisely as possible.

    `path` is set for cycles: the node ids in edge order, the first repeated at
    the end. `edge_id` is set for edge problems when the edge has an id.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    node_id: str | None = None
    port: str | None = None
    param: str | None = None
    message: str
    path: list[str] | None = None
    edge_id: str | None = None
