"""SQL for workflows. Every query is scoped to the owner, so another user's id finds nothing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from falflow.kit.timeutil import utcnow
from falflow.workflows.models import Workflow, WorkflowVersion


def list_for_owner(session: Session, owner_id: uuid.UUID, *, limit: int, offset: int) -> list[Workflow]:
    """Return the owner's workflows with their documents deferred (reading one loads it)."""
    statement = (
        select(Workflow)
        .options(defer(Workflow.document))  # type: ignore[arg-type]
        .where(Workflow.owner_id == owner_id, col(Workflow.deleted_at).is_(None))
        .order_by(col(Workflow.updated_at).desc(), col(Workflow.id))
        .limit(limit)
        .offset(offset)
    )
    return list(session.exec(statement))


def get_for_owner(session: Session, workflow_id: uuid.UUID, owner_id: uuid.UUID) -> Workflow | None:
    statement = select(Workflow).where(
        Workflow.id == workflow_id, Workflow.owner_id == owner_id, col(Workflow.deleted_at).is_(None)
    )
    return session.exec(statement).first()


def add(session: Session, row: Workflow | WorkflowVersion) -> None:
    session.add(row)
    session.flush()


def save_if_version(
    session: Session, workflow_id: uuid.UUID, owner_id: uuid.UUID, base_version: int, values: dict[str, Any]
) -> bool:
    """Write `values` and bump the version only if it is still `base_version`."""
    result = session.execute(
        update(Workflow)
        .where(
            col(Workflow.id) == workflow_id,
            col(Workflow.owner_id) == owner_id,
            col(Workflow.version) == base_version,
            col(Workflow.deleted_at).is_(None),
        )
        .values(version=base_version + 1, updated_at=utcnow(), **values)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def soft_delete(session: Session, workflow: Workflow) -> None:
    workflow.deleted_at = utcnow()
    session.add(workflow)
    session.flush()


def list_versions(session: Session, workflow_id: uuid.UUID) -> list[WorkflowVersion]:
    statement = select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id).order_by(col(WorkflowVersion.version).desc())
    return list(session.exec(statement))


def get_version(session: Session, workflow_id: uuid.UUID, version: int) -> WorkflowVersion | None:
    statement = select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.version == version)
    return session.exec(statement).first()
