"""Workflow use cases: create, save with the version guard, delete, versions and restore.

Saves accept incomplete graphs (a user is mid-edit); `validate` and every run check them
fully. Every save writes a `workflow_version` row, so earlier versions are never lost.
"""

from __future__ import annotations

import logging
import math
import uuid
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from falflow.graph.document import MAX_EDGES, MAX_NODES, WorkflowDocument, migrate_document
from falflow.graph.catalog import NodeCatalog
from falflow.graph.errors import DocumentFormatError, GraphError
from falflow.graph.falformat import import_fal_workflow
from falflow.graph.templates import TEMPLATES
from falflow.kit.errors import ConflictError, InvalidInputError, NotFoundError
from falflow.workflows import repository
from falflow.workflows.models import Workflow, WorkflowVersion

logger = logging.getLogger("falflow.workflows")

MAX_WORKFLOWS_PAGE = 200


def parse_document(raw: dict[str, Any] | None) -> WorkflowDocument:
    """Turn a client document into the current schema, or raise 422 naming each bad field."""
    if raw is None:
        return WorkflowDocument()
    try:
        document = migrate_document(raw)
    except DocumentFormatError as wrapped:
        exc = wrapped.__cause__
        if not isinstance(exc, ValidationError):
            raise InvalidInputError(
                f"The workflow document cannot be loaded: {wrapped}",
                errors=[{"field": "document", "value": None, "message": str(wrapped)}],
            ) from wrapped
        errors = [
            {
                "field": "document." + ".".join(str(p) for p in error["loc"]),
                "value": _shown_value(error.get("input")),
                "message": f"document.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}",
            }
            for error in exc.errors()
        ]
        shown = "; ".join(e["message"] for e in errors[:5])
        raise InvalidInputError(
            f"The workflow document is malformed: {shown}. Fix these fields and save again.", errors=errors
        ) from wrapped
    check_document_size(document)
    return document


# A saved document may be at most this large as JSON; validation enforces the finer limits
# (nodes, edges, params per node) before a run.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


def check_document_size(document: WorkflowDocument) -> None:
    """Reject documents beyond the node, edge or size limits before they are stored."""
    problems = []
    if len(document.nodes) > MAX_NODES:
        problems.append(f"it has {len(document.nodes)} nodes; the limit is {MAX_NODES}")
    if len(document.edges) > MAX_EDGES:
        problems.append(f"it has {len(document.edges)} edges; the limit is {MAX_EDGES}")
    size = len(document.model_dump_json())
    if size > MAX_DOCUMENT_BYTES:
        problems.append(f"it is {size} bytes as JSON; the limit is {MAX_DOCUMENT_BYTES}")
    if problems:
        raise InvalidInputError(
            "The workflow document is too large: " + "; ".join(problems)
            + ". Split it into smaller workflows, and keep large inputs in assets rather than params.",
            errors=[{"field": "document", "value": None, "message": p} for p in problems],
        )


def _dump(document: WorkflowDocument) -> dict[str, Any]:
    return document.model_dump(mode="json")


def _shown_value(value: Any) -> Any:
    """Return a bad value as it may appear in a JSON error body (finite numbers and short text only)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value[:80]
    return None


def template_document(template_id: str) -> WorkflowDocument:
    for template in TEMPLATES:
        if template.id == template_id:
            return template.document.model_copy(deep=True)
    known = ", ".join(t.id for t in TEMPLATES)
    raise InvalidInputError(
        f"template_id '{template_id}' is not a known template; use one of: {known}.",
        errors=[{"field": "template_id", "value": template_id, "message": "template_id: unknown template"}],
    )


def read_import(body: Any, catalog: NodeCatalog) -> tuple[str, WorkflowDocument]:
    """Read an import: a falflow export (with `document`) or fal's saved workflow JSON; return name and document."""
    if not isinstance(body, dict):
        raise InvalidInputError(
            "An import must be a JSON object: a falflow export or fal's saved workflow JSON.",
            errors=[{"field": "body", "value": None, "message": "body: not a JSON object"}],
        )
    if "document" in body:
        return str(body.get("name") or "Imported workflow")[:200], parse_document(body["document"])
    try:
        result = import_fal_workflow(body, catalog)
    except (GraphError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(
            f"The fal workflow JSON cannot be imported: {exc}. Send fal's saved workflow format or a falflow export.",
            errors=[{"field": "body", "value": None, "message": str(exc)}],
        ) from exc
    check_document_size(result.document)
    return str(body.get("title") or body.get("name") or "Imported fal workflow")[:200], result.document


def create_workflow(
    session: Session, owner_id: uuid.UUID, *, name: str, description: str = "", document: WorkflowDocument
) -> Workflow:
    workflow = Workflow(
        owner_id=owner_id, name=name.strip(), description=description, document=_dump(document),
        node_count=len(document.nodes),
    )
    repository.add(session, workflow)
    repository.add(session, WorkflowVersion(workflow_id=workflow.id, version=1, name=workflow.name, document=workflow.document, note="created"))
    logger.info("workflows.created", extra={"workflow_id": str(workflow.id), "user_id": str(owner_id)})
    return workflow


def list_workflows(session: Session, owner_id: uuid.UUID, *, limit: int = 100, offset: int = 0) -> list[Workflow]:
    return repository.list_for_owner(session, owner_id, limit=min(limit, MAX_WORKFLOWS_PAGE), offset=offset)


def get_workflow(session: Session, owner_id: uuid.UUID, workflow_id: uuid.UUID) -> Workflow:
    workflow = repository.get_for_owner(session, workflow_id, owner_id)
    if workflow is None:
        raise NotFoundError.for_resource("Workflow", workflow_id)
    return workflow


def save_workflow(
    session: Session,
    owner_id: uuid.UUID,
    workflow_id: uuid.UUID,
    *,
    base_version: int,
    name: str | None = None,
    description: str | None = None,
    document: WorkflowDocument | None = None,
    note: str = "",
) -> Workflow:
    """Save an edit made on `base_version`; raise 409 with the current version when stale."""
    current = get_workflow(session, owner_id, workflow_id)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = name.strip()
    if description is not None:
        values["description"] = description
    if document is not None:
        values["document"] = _dump(document)
        values["node_count"] = len(document.nodes)
    if not repository.save_if_version(session, workflow_id, owner_id, base_version, values):
        session.refresh(current)
        raise ConflictError(
            f"Workflow '{workflow_id}' is at version {current.version}, but this edit was based on version "
            f"{base_version}; reload it, reapply your change, and save with base_version={current.version}.",
            extra={"current_version": current.version},
        )
    session.refresh(current)
    repository.add(
        session,
        WorkflowVersion(workflow_id=workflow_id, version=current.version, name=current.name, document=current.document, note=note),
    )
    return current


def delete_workflow(session: Session, owner_id: uuid.UUID, workflow_id: uuid.UUID) -> None:
    """Hide a workflow; its rows and versions stay so runs and assets keep their lineage."""
    repository.soft_delete(session, get_workflow(session, owner_id, workflow_id))


def list_versions(session: Session, owner_id: uuid.UUID, workflow_id: uuid.UUID) -> list[WorkflowVersion]:
    get_workflow(session, owner_id, workflow_id)
    return repository.list_versions(session, workflow_id)


def get_version(session: Session, owner_id: uuid.UUID, workflow_id: uuid.UUID, version: int) -> WorkflowVersion:
    get_workflow(session, owner_id, workflow_id)
    row = repository.get_version(session, workflow_id, version)
    if row is None:
        raise NotFoundError(f"Workflow '{workflow_id}' has no version {version}; list versions at /api/workflows/{workflow_id}/versions.")
    return row


def restore_version(session: Session, owner_id: uuid.UUID, workflow_id: uuid.UUID, version: int, *, base_version: int) -> Workflow:
    """Make an earlier version current again, as a new version (history is never rewritten)."""
    old = get_version(session, owner_id, workflow_id, version)
    return save_workflow(
        session, owner_id, workflow_id, base_version=base_version, name=old.name,
        document=parse_document(old.document), note=f"restored version {version}",
    )


def duplicate_workflow(session: Session, owner_id: uuid.UUID, workflow_id: uuid.UUID) -> Workflow:
    source = get_workflow(session, owner_id, workflow_id)
    return create_workflow(
        session, owner_id, name=f"{source.name} (copy)"[:200], description=source.description,
        document=parse_document(source.document),
    )


def node_count(document: dict[str, Any]) -> int:
    nodes = document.get("nodes")
    return len(nodes) if isinstance(nodes, list) else 0
