"""Exceptions raised by the workflow-graph core.

Validation does not raise for problems in a document: it returns each one as a
`Problem`. These exceptions are for callers that hand the core something it cannot
work with at all (a document from a future schema version, a plan over a cyclic
graph, a fal result without its required outputs). They describe bad input, so
the API layer should map `GraphError` subclasses to 4xx responses.
"""

from __future__ import annotations


class GraphError(Exception):
    """Base class of every error raised by `falflow.graph`."""


class DocumentFormatError(GraphError):
    """A raw workflow document is not a JSON object of the expected shape."""


class DocumentVersionError(DocumentFormatError):
    """A document's `schema_version` is unknown to this version of falflow."""


class PlanError(GraphError):
    """An execution plan cannot be built (cycle, unknown node, unknown type)."""


class InputResolutionError(GraphError):
    """Upstream values cannot be turned into arguments for a node."""


class OutputExtractionError(GraphError):
    """A fal result lacks a field that the node's output ports require."""


class UtilityNodeError(GraphError):
    """A utility node cannot produce its outputs from the given inputs."""


class FalExportError(GraphError):
    """A document uses features that fal's workflow format cannot express.

    `reasons` lists every offending node or edge so that the user can fix all of
    them at once.
    """

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("Cannot export to a fal workflow: " + " ".join(self.reasons))


class FalImportError(GraphError):
    """A fal workflow JSON is structurally invalid (not merely unsupported)."""
