"""`/api/workflows/*`, `/api/nodes` and `/api/templates`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from falflow.graph.catalog import NodeCatalog, load_bundled_catalog
from falflow.graph.cost import estimate_workflow
from falflow.graph.errors import GraphError
from falflow.graph.falformat import export_fal_workflow
from falflow.graph.live_catalog import CatalogHolder
from falflow.graph.templates import TEMPLATES
from falflow.graph.validation import validate_workflow
from falflow.kit.auth import Context, CurrentUserId
from falflow.kit.errors import InvalidInputError
from falflow.workflows import service
from falflow.workflows.models import Workflow, WorkflowVersion
from falflow.workflows.schemas import (
    MAX_VERSION,
    RestoreRequest,
    WorkflowCreate,
    WorkflowPublic,
    WorkflowSummary,
    WorkflowUpdate,
    WorkflowVersionPublic,
    WorkflowVersionSummary,
)

router = APIRouter(tags=["workflows"])

MAX_OFFSET = 1_000_000


# The bundled catalog until live mode installs one with fal's current prices (see falflow.runtime).
catalog_holder = CatalogHolder(load_bundled_catalog)


def get_catalog() -> NodeCatalog:
    return catalog_holder.current()


def _summary(workflow: Workflow) -> WorkflowSummary:
    return WorkflowSummary(
        id=workflow.id, name=workflow.name, description=workflow.description, version=workflow.version,
        node_count=workflow.node_count, created_at=workflow.created_at, updated_at=workflow.updated_at,
    )


def _public(workflow: Workflow) -> WorkflowPublic:
    return WorkflowPublic(**_summary(workflow).model_dump(), document=workflow.document)


def _version(row: WorkflowVersion, *, with_document: bool) -> WorkflowVersionSummary:
    summary = WorkflowVersionSummary(
        version=row.version, name=row.name, note=row.note, node_count=service.node_count(row.document), created_at=row.created_at
    )
    return WorkflowVersionPublic(**summary.model_dump(), document=row.document) if with_document else summary


@router.get("/nodes")
def list_node_types() -> dict[str, Any]:
    """List the node catalog: every fal endpoint and utility node with ports, params and price rule."""
    return {"nodes": get_catalog().to_public()}


@router.get("/templates")
def list_templates() -> dict[str, Any]:
    catalog = get_catalog()
    return {
        "templates": [
            {
                "id": t.id, "title": t.title, "description": t.description,
                "estimated_credits": estimate_workflow(t.document, catalog).total_credits,
                "document": t.document.model_dump(mode="json"),
            }
            for t in TEMPLATES
        ]
    }


@router.get("/workflows", response_model=list[WorkflowSummary])
def list_workflows(
    user_id: CurrentUserId, context: Context, limit: int = Query(100, ge=1, le=200), offset: int = Query(0, ge=0, le=MAX_OFFSET)
) -> list[WorkflowSummary]:
    """List the caller's workflows, most recently changed first."""
    with context.database.read_session() as session:
        return [_summary(w) for w in service.list_workflows(session, user_id, limit=limit, offset=offset)]


@router.post("/workflows", status_code=status.HTTP_201_CREATED, response_model=WorkflowPublic)
def create_workflow(body: WorkflowCreate, user_id: CurrentUserId, context: Context) -> WorkflowPublic:
    if body.document is not None and body.template_id is not None:
        raise InvalidInputError(
            "Send either document or template_id, not both.",
            errors=[{"field": "template_id", "value": body.template_id, "message": "template_id: conflicts with document"}],
        )
    document = service.template_document(body.template_id) if body.template_id else service.parse_document(body.document)
    with context.database.write_session() as session:
        workflow = service.create_workflow(session, user_id, name=body.name, description=body.description, document=document)
        return _public(workflow)


@router.post("/workflows/import", status_code=status.HTTP_201_CREATED, response_model=WorkflowPublic)
def import_workflow(body: dict[str, Any], user_id: CurrentUserId, context: Context) -> WorkflowPublic:
    """Import a fal workflow JSON (`contents` with `nodes`) or a falflow export (`document`)."""
    name, document = service.read_import(body, get_catalog())
    with context.database.write_session() as session:
        return _public(service.create_workflow(session, user_id, name=name, document=document))


@router.get("/workflows/{workflowId}", response_model=WorkflowPublic)
def get_workflow(workflowId: uuid.UUID, user_id: CurrentUserId, context: Context) -> WorkflowPublic:  # noqa: N803
    with context.database.read_session() as session:
        return _public(service.get_workflow(session, user_id, workflowId))


@router.put("/workflows/{workflowId}", response_model=WorkflowPublic)
def update_workflow(workflowId: uuid.UUID, body: WorkflowUpdate, user_id: CurrentUserId, context: Context) -> WorkflowPublic:  # noqa: N803
    """Save an edit; `base_version` must be the current version, else the response is 409."""
    document = service.parse_document(body.document) if body.document is not None else None
    with context.database.write_session() as session:
        workflow = service.save_workflow(
            session, user_id, workflowId, base_version=body.base_version, name=body.name,
            description=body.description, document=document,
        )
        return _public(workflow)


@router.delete("/workflows/{workflowId}", status_code=status.HTTP_204_NO_CONTENT)
def delete_workflow(workflowId: uuid.UUID, user_id: CurrentUserId, context: Context) -> Response:  # noqa: N803
    with context.database.write_session() as session:
        service.delete_workflow(session, user_id, workflowId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/workflows/{workflowId}/duplicate", status_code=status.HTTP_201_CREATED, response_model=WorkflowPublic)
def duplicate_workflow(workflowId: uuid.UUID, user_id: CurrentUserId, context: Context) -> WorkflowPublic:  # noqa: N803
    with context.database.write_session() as session:
        return _public(service.duplicate_workflow(session, user_id, workflowId))


@router.get("/workflows/{workflowId}/versions", response_model=list[WorkflowVersionSummary])
def list_versions(workflowId: uuid.UUID, user_id: CurrentUserId, context: Context) -> list[WorkflowVersionSummary]:  # noqa: N803
    with context.database.read_session() as session:
        return [_version(v, with_document=False) for v in service.list_versions(session, user_id, workflowId)]


@router.get("/workflows/{workflowId}/versions/{version}", response_model=WorkflowVersionPublic)
def get_version(workflowId: uuid.UUID, version: Annotated[int, Path(ge=1, le=MAX_VERSION)], user_id: CurrentUserId, context: Context) -> WorkflowVersionSummary:  # noqa: N803
    with context.database.read_session() as session:
        return _version(service.get_version(session, user_id, workflowId, version), with_document=True)


@router.post("/workflows/{workflowId}/versions/{version}/restore", response_model=WorkflowPublic)
def restore_version(
    workflowId: uuid.UUID, version: Annotated[int, Path(ge=1, le=MAX_VERSION)], body: RestoreRequest, user_id: CurrentUserId, context: Context  # noqa: N803
) -> WorkflowPublic:
    with context.database.write_session() as session:
        return _public(service.restore_version(session, user_id, workflowId, version, base_version=body.base_version))


@router.post("/workflows/{workflowId}/validate")
def validate(workflowId: uuid.UUID, user_id: CurrentUserId, context: Context) -> dict[str, Any]:  # noqa: N803
    """Report every problem that would stop a run, each with its node, port or param, code and fix."""
    with context.database.read_session() as session:
        workflow = service.get_workflow(session, user_id, workflowId)
    problems = validate_workflow(service.parse_document(workflow.document), get_catalog())
    return {"valid": not problems, "version": workflow.version, "problems": [p.model_dump() for p in problems]}


@router.get("/workflows/{workflowId}/estimate")
def estimate(workflowId: uuid.UUID, user_id: CurrentUserId, context: Context) -> dict[str, Any]:  # noqa: N803
    """Credits per node and in total (1 credit = US$0.001), batches included."""
    with context.database.read_session() as session:
        workflow = service.get_workflow(session, user_id, workflowId)
    result = estimate_workflow(
        service.parse_document(workflow.document), get_catalog(), margin_bps=context.settings.price_margin_bps
    )
    return {"version": workflow.version, **result.model_dump(mode="json")}


@router.get("/workflows/{workflowId}/export")
def export(
    workflowId: uuid.UUID, user_id: CurrentUserId, context: Context,  # noqa: N803
    format: str = Query("falflow", pattern="^(falflow|fal)$", description="'falflow' (lossless) or 'fal' (fal's workflow JSON)."),
) -> dict[str, Any]:
    with context.database.read_session() as session:
        workflow = service.get_workflow(session, user_id, workflowId)
    document = service.parse_document(workflow.document)
    if format == "fal":
        blocking = [p for p in validate_workflow(document, get_catalog()) if p.code in ("duplicate_id", "cycle", "dangling_edge")]
        if blocking:
            raise InvalidInputError(
                "The workflow cannot be exported to fal's format until these problems are fixed: "
                + "; ".join(p.message for p in blocking),
                errors=[{"field": "document", "value": None, "message": p.message, **p.model_dump()} for p in blocking],
            )
        try:
            slug = "".join(ch if ch.isalnum() else "-" for ch in workflow.name.lower()).strip("-") or "workflow"
            return export_fal_workflow(document, get_catalog(), name=slug, title=workflow.name)
        except GraphError as exc:
            raise InvalidInputError(
                f"The workflow cannot be expressed in fal's format: {exc}",
                errors=[{"field": "format", "value": "fal", "message": str(exc)}],
            ) from exc
    return {"format": "falflow", "name": workflow.name, "description": workflow.description, "document": document.model_dump(mode="json")}
