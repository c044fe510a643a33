"""Database reads behind the editor's live run view. They block, so callers run them in a thread.

The event log in the database is the truth. A page reads it from its last sequence number,
and the in-process event bus only signals when to read again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from falflow.context import get_context
from falflow.runs import repository, service
from falflow.runs.events import event_to_dict
from falflow.runs.states import RUN_TERMINAL, RunStatus

EVENTS_PAGE = 500
# Runs looked at when searching for the newest unfinished run of a workflow.
RECENT_RUNS = 5


@dataclass(frozen=True)
class RunHeader:
    """The run's status and node types, read once when a page attaches to the run."""

    run_id: uuid.UUID
    workflow_id: uuid.UUID
    status: str
    estimated_credits: int
    node_types: dict[str, str] = field(default_factory=dict)
    detail_nodes: list[dict[str, Any]] = field(default_factory=list)


def read_header(owner_id: uuid.UUID, run_id: uuid.UUID) -> RunHeader:
    """Return the run's header; raise NotFoundError for another user's or an unknown run."""
    with get_context().database.read_session() as session:
        run = service.get_run(session, owner_id, run_id)
        detail = service.run_detail(session, run)
        node_types = {str(node.get("id")): str(node.get("type")) for node in run.document.get("nodes", [])}
        return RunHeader(
            run_id=run.id, workflow_id=run.workflow_id, status=run.status,
            estimated_credits=run.estimated_credits, node_types=node_types, detail_nodes=detail["nodes"],
        )


def read_events(owner_id: uuid.UUID, run_id: uuid.UUID, after: int) -> tuple[list[dict[str, Any]], str]:
    """Return up to one page of events after sequence `after`, and the run's status."""
    with get_context().database.read_session() as session:
        run = service.get_run(session, owner_id, run_id)
        events = [event_to_dict(event) for event in repository.events_after(session, run_id, after, EVENTS_PAGE)]
        return events, run.status


def find_unfinished_run(owner_id: uuid.UUID, workflow_id: uuid.UUID) -> uuid.UUID | None:
    """Return the newest run of the workflow that has not finished, if any."""
    with get_context().database.read_session() as session:
        runs = repository.list_runs(session, owner_id, workflow_id=workflow_id, limit=RECENT_RUNS, offset=0)
    for run in runs:
        if RunStatus(run.status) not in RUN_TERMINAL:
            return run.id
    return None


def find_latest_run(owner_id: uuid.UUID, workflow_id: uuid.UUID) -> uuid.UUID | None:
    """Return the newest run of the workflow, finished or not, if any."""
    with get_context().database.read_session() as session:
        runs = repository.list_runs(session, owner_id, workflow_id=workflow_id, limit=1, offset=0)
    return runs[0].id if runs else None


def parse_run_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

