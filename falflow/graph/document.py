"""The stored workflow document: nodes, edges and positions, plus schema migration.

The document is what the editor saves and what a run snapshots. It is deliberately
dumb: it contains no port types or prices, which come from the node catalog, so a
catalog update never requires rewriting stored documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from falflow.graph.errors import DocumentFormatError, DocumentVersionError

CURRENT_SCHEMA_VERSION = 1

# Node ids appear inside fal workflow references (`$node_id.images.0.url`), whose
# parser splits on dots, so ids are restricted to letters, digits, `_` and `-`.
NODE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

MAX_NODES = 500
MAX_EDGES = 2000
# Serialised size of one node's params. Large inline values (data URIs, long texts)
# belong in the asset store, not in the document.
MAX_PARAMS_JSON_BYTES = 64 * 1024
# Largest number of fal requests one node may fan out to in a batch.
MAX_BATCH_ITEMS = 100


@dataclass(frozen=True)
class DocumentLimits:
    """Size limits that validation enforces (problem code `too_large`)."""

    max_nodes: int = MAX_NODES
    max_edges: int = MAX_EDGES
    max_params_json_bytes: int = MAX_PARAMS_JSON_BYTES
    max_batch_items: int = MAX_BATCH_ITEMS


DEFAULT_LIMITS = DocumentLimits()


class Position(BaseModel):
    """Canvas coordinates of a node, in editor pixels."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    x: float
    y: float


class Node(BaseModel):
    """One node: a fal endpoint id or a `util/...` type id, with its inline params.

    `placeholder` marks a node imported from an endpoint that is not in the catalog.
    Its params are kept verbatim. Validation reports it and execution plans reject it.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=NODE_ID_PATTERN)
    type: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    position: Position = Field(default_factory=lambda: Position(x=0, y=0))
    label: str | None = None
    placeholder: bool = False


class Edge(BaseModel):
    """A connection from an output port (optionally with a path such as `images.0`)
    to an input port."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    source: str = Field(min_length=1)
    source_port: str = Field(min_length=1)
    target: str = Field(min_length=1)
    target_port: str = Field(min_length=1)


class WorkflowDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = CURRENT_SCHEMA_VERSION
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)

    @field_validator("schema_version")
    @classmethod
    def _require_current_version(cls, value: int) -> int:
        if value != CURRENT_SCHEMA_VERSION:
            raise ValueError(
                f"schema_version must be {CURRENT_SCHEMA_VERSION}; got {value}. "
                "Load stored documents through migrate_document()."
            )
        return value

    def node_map(self) -> dict[str, Node]:
        """Return nodes by id; with duplicate ids the first node wins."""
        nodes: dict[str, Node] = {}
        for node in self.nodes:
            nodes.setdefault(node.id, node)
        return nodes

    def incoming_edges(self, node_id: str) -> list[Edge]:
        """Return the edges into `node_id`, in document order."""
        return [edge for edge in self.edges if edge.target == node_id]


# Each upgrade turns a raw document of version N into version N + 1. Version 2
# will register `_UPGRADES[1] = _upgrade_v1_to_v2`.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def migrate_document(raw: dict[str, Any]) -> WorkflowDocument:
    """Upgrade a stored document to the current schema version and validate it.

    A document without `schema_version` predates the field and is read as version 1.
    Raises DocumentVersionError for versions this falflow does not know and
    DocumentFormatError for anything that does not validate.
    """
    if not isinstance(raw, dict):
        raise DocumentFormatError(
            f"A workflow document must be a JSON object; got {type(raw).__name__}."
        )
    version = raw.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise DocumentVersionError(
            f"schema_version must be an integer; got {version!r}. "
            f"Set it to {CURRENT_SCHEMA_VERSION} for a new document."
        )
    if version > CURRENT_SCHEMA_VERSION:
        raise DocumentVersionError(
            f"schema_version {version} is newer than this falflow supports "
            f"(up to {CURRENT_SCHEMA_VERSION}). Upgrade falflow to open this workflow."
        )
    if version < 1:
        raise DocumentVersionError(
            f"schema_version must be at least 1; got {version}."
        )

    upgraded = dict(raw)
    while version < CURRENT_SCHEMA_VERSION:
        upgraded = _UPGRADES[version](upgraded)
        version += 1
        upgraded["schema_version"] = version
    upgraded["schema_version"] = CURRENT_SCHEMA_VERSION

    try:
        return WorkflowDocument.model_validate(upgraded)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise DocumentFormatError(f"Invalid workflow document: {details}") from error
