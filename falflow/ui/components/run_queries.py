"""Reads and writes behind the Runs pages, each in its own transaction.

These are blocking functions: Reflex handlers call them through `asyncio.to_thread`, so a
slow database never stalls the websocket loop. Each one opens and commits its own session,
the way an API endpoint does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from falflow.assets import service as assets
from falflow.assets.listing import MAX_PAGE_SIZE, AssetFilters
from falflow.context import get_context
from falflow.graph.document import WorkflowDocument
from falflow.kit.errors import NotFoundError
from falflow.runs import repository as runs_repository
from falflow.runs import service as runs
from falflow.runs.events import event_to_dict
from falflow.runs.models import Run
from falflow.ui.components.run_rows import asset_preview, node_progress, node_rows, output_asset_ids, run_row
from falflow.workflows import service as workflows
from falflow.workflows.endpoints import get_catalog

DELETED_WORKFLOW_NAME = "Deleted workflow"
# Assets looked up one by one when a node shows outputs of another run (reused upstream nodes).
MAX_FOREIGN_ASSET_LOOKUPS = 50
# Statuses in which some fal request may have been cancelled while it ran.
_MAY_BE_BILLED_STATUSES = frozenset({"cancelled", "cancelling", "failed"})


@dataclass
class RunView:
    """Everything the run detail page shows, ready for Reflex state."""

    run: dict[str, Any]
    nodes: list[dict[str, Any]]
    progress: str
    last_event_seq: int
    active: bool


@dataclass
class RunPage:
    rows: list[dict[str, Any]] = field(default_factory=list)
    has_more: bool = False


def workflow_name(session: Session, owner_id: uuid.UUID, workflow_id: uuid.UUID, cache: dict[uuid.UUID, str]) -> str:
    """Return the workflow's current name, or a placeholder when it was deleted."""
    if workflow_id not in cache:
        try:
            cache[workflow_id] = workflows.get_workflow(session, owner_id, workflow_id).name
        except NotFoundError:
            cache[workflow_id] = DELETED_WORKFLOW_NAME
    return cache[workflow_id]


def read_run_page(owner_id: uuid.UUID, *, offset: int, limit: int) -> RunPage:
    """Return one page of the owner's runs, newest first."""
    names: dict[uuid.UUID, str] = {}
    with get_context().database.read_session() as session:
        found = runs_repository.list_runs(session, owner_id, workflow_id=None, limit=limit + 1, offset=offset)
        rows = []
        for run in found[:limit]:
            billed = run.status in _MAY_BE_BILLED_STATUSES and runs.run_detail(session, run)["may_be_billed"]
            rows.append(run_row(run, workflow_name=workflow_name(session, owner_id, run.workflow_id, names), may_be_billed=billed))
    return RunPage(rows=rows, has_more=len(found) > limit)


def _assets_of_run(session: Session, owner_id: uuid.UUID, run: Run, wanted: list[str]) -> dict[str, dict[str, Any]]:
    page = assets.list_assets(session, owner_id, filters=AssetFilters(run_id=run.id), limit=MAX_PAGE_SIZE)
    found = {str(asset.id): asset_preview(asset) for asset in page.items}
    foreign = [asset_id for asset_id in wanted if asset_id not in found][:MAX_FOREIGN_ASSET_LOOKUPS]
    for asset_id in foreign:
        try:
            found[asset_id] = asset_preview(assets.get_asset_for_owner(session, owner_id, uuid.UUID(asset_id)))
        except (NotFoundError, ValueError):
            continue
    return found


def read_run_view(owner_id: uuid.UUID, run_id: uuid.UUID) -> RunView:
    """Return the run with its nodes, items and output previews, or raise 404 for another user's run."""
    with get_context().database.read_session() as session:
        run = runs.get_run(session, owner_id, run_id)
        detail = runs.run_detail(session, run)
        wanted = [asset_id for node in detail["nodes"] for asset_id in output_asset_ids(node["outputs"])]
        previews = _assets_of_run(session, owner_id, run, wanted)
        row = run_row(
            run, workflow_name=workflow_name(session, owner_id, run.workflow_id, {}), may_be_billed=detail["may_be_billed"]
        )
    titles = {spec.type: spec.title for spec in get_catalog().all()}
    nodes = node_rows(run.document, detail["nodes"], previews, titles)
    return RunView(run=row, nodes=nodes, progress=node_progress(nodes), last_event_seq=run.event_seq, active=row["active"])


def read_events(owner_id: uuid.UUID, run_id: uuid.UUID, after: int, limit: int) -> tuple[list[dict[str, Any]], str]:
    """Return the run's events after sequence number `after`, and the run's status."""
    with get_context().database.read_session() as session:
        run = runs.get_run(session, owner_id, run_id)
        events = [event_to_dict(event) for event in runs_repository.events_after(session, run_id, after, limit)]
        return events, run.status


def start_rerun(owner_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    """Start a new run of the run's workflow at its current version, holding credits (402 when short)."""
    context = get_context()
    with context.database.write_session() as session:
        source = runs.get_run(session, owner_id, run_id)
        return runs.start_run(
            session, owner_id=owner_id, workflow_id=source.workflow_id, options=runs.RunOptions(), catalog=get_catalog(),
            margin_bps=context.settings.price_margin_bps, mode=context.settings.mode.value,
        )


def save_run_document(owner_id: uuid.UUID, run_id: uuid.UUID) -> uuid.UUID:
    """Make the run's document the workflow's newest version, and return the workflow id to open.

    When the workflow was deleted, the document becomes a new workflow instead, so the
    run can always be edited again.
    """
    with get_context().database.write_session() as session:
        run = runs.get_run(session, owner_id, run_id)
        document: WorkflowDocument = workflows.parse_document(run.document)
        try:
            current = workflows.get_workflow(session, owner_id, run.workflow_id)
        except NotFoundError:
            created = workflows.create_workflow(session, owner_id, name=f"Restored from run {str(run.id)[:8]}", document=document)
            return created.id
        workflows.save_workflow(
            session, owner_id, current.id, base_version=current.version, document=document,
            note=f"from run {str(run.id)[:8]} (version {run.workflow_version})",
        )
        return current.id


def request_cancel(owner_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    with get_context().database.write_session() as session:
        return runs.request_cancel(session, owner_id, run_id)
