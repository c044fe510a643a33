"""Run use cases for the API and the UI: start (validate, estimate, hold, snapshot), cancel, read.

Starting a run is one transaction: if the hold fails with 402 nothing else is written, and
if anything after the hold fails the hold rolls back with it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from falflow.billing import ledger
from falflow.graph.catalog import NodeCatalog
from falflow.graph.cost import estimate_workflow
from falflow.graph.errors import PlanError
from falflow.graph.scheduler import ExecutionPlan
from falflow.graph.validation import validate_workflow
from falflow.kit.errors import ConflictError, InvalidInputError, NotFoundError
from falflow.runs import repository
from falflow.runs.events import EventDraft, append_events
from falflow.runs.models import Run, RunNode
from falflow.runs.planner import set_run_status
from falflow.runs.states import NODE_IN_FLIGHT, RunStatus
from falflow.workflows import service as workflows

logger = logging.getLogger("falflow.runs")


@dataclass(frozen=True)
class RunOptions:
    base_version: int | None = None
    only_up_to: str | None = None
    start_from: str | None = None
    force: bool = False


def start_run(
    session: Session,
    *,
    owner_id: uuid.UUID,
    workflow_id: uuid.UUID,
    options: RunOptions,
    catalog: NodeCatalog,
    margin_bps: int,
    mode: str,
    request_key: str | None = None,
) -> Run:
    """Create a run and hold its estimated credits; the caller commits, then starts the engine."""
    if request_key:
        existing = repository.get_run_by_request_key(session, owner_id, request_key)
        if existing is not None:
            if existing.workflow_id != workflow_id:
                raise ConflictError(
                    f"Idempotency-Key '{request_key[:80]}' was already used for a run of workflow "
                    f"'{existing.workflow_id}'; use a new key for each distinct run request.",
                )
            return existing
    workflow = workflows.get_workflow(session, owner_id, workflow_id)
    if options.base_version is not None and options.base_version != workflow.version:
        raise ConflictError(
            f"Workflow '{workflow_id}' is at version {workflow.version}, not {options.base_version}; "
            "save or reload it before running.",
            extra={"current_version": workflow.version},
        )
    document = workflows.parse_document(workflow.document)
    problems = validate_workflow(document, catalog)
    if problems:
        raise InvalidInputError(
            f"The workflow has {len(problems)} problem(s) and was not run (nothing was charged); "
            f"fix them first: {problems[0].message}",
            errors=[
                {"field": _problem_field(p), "value": None, "message": p.message, **p.model_dump()}
                for p in problems
            ],
        )
    try:
        plan = ExecutionPlan.from_document(document, catalog, only_up_to=options.only_up_to, start_from=options.start_from)
    except PlanError as exc:
        field = "start_from" if options.start_from else "only_up_to"
        raise InvalidInputError(str(exc), errors=[{"field": field, "value": options.start_from or options.only_up_to, "message": str(exc)}]) from exc

    run_id = uuid.uuid4()
    reused = _reused_upstream(session, owner_id, workflow_id, plan, document)
    estimate = estimate_workflow(document, catalog, margin_bps=margin_bps)
    amount = sum(estimate.nodes[node_id].credits for node_id in plan.order)

    hold = ledger.reserve_credits(session, user_id=owner_id, run_id=run_id, amount=amount)
    run = Run(
        id=run_id,
        owner_id=owner_id,
        workflow_id=workflow_id,
        workflow_version=workflow.version,
        document=workflow.document,
        options={"only_up_to": options.only_up_to, "start_from": options.start_from, "force": options.force},
        mode=mode,
        estimated_credits=amount,
        request_key=request_key,
        reservation_id=hold.id,
    )
    repository.add(session, run)
    node_map = document.node_map()
    repository.insert_nodes(session, run_id, [
        {"node_id": node_id, "node_type": node_map[node_id].type, "status": "pending"} for node_id in plan.order
    ])
    repository.insert_nodes(session, run_id, [
        {"node_id": node_id, "node_type": node_map[node_id].type, "status": "reused", "outputs": source.outputs,
         "batch_count": source.batch_count, "reused_from_run_id": source.run_id}
        for node_id, source in reused.items()
    ])
    append_events(session, run_id, [EventDraft("run.status", data={"status": "queued", "estimated_credits": amount,
                                                                    "node_ids": list(plan.order)})])
    logger.info("run.created", extra={"run_id": str(run_id), "user_id": str(owner_id), "estimated_credits": amount})
    return run


def _problem_field(problem: Any) -> str:
    parts = ["nodes", problem.node_id] if problem.node_id else ["document"]
    if problem.port:
        parts.append(problem.port)
    if problem.param:
        parts.append(problem.param)
    return ".".join(str(p) for p in parts)


def _reused_upstream(
    session: Session, owner_id: uuid.UUID, workflow_id: uuid.UUID, plan: ExecutionPlan, document: Any
) -> dict[str, RunNode]:
    reused: dict[str, RunNode] = {}
    for node_id in sorted(plan.reused):
        source = repository.latest_done_node(session, workflow_id, owner_id, node_id)
        if source is None:
            raise InvalidInputError(
                f"start_from needs the outputs of upstream node '{node_id}', but it has never finished in a run "
                "of this workflow; run the whole workflow (or up to that node) first.",
                errors=[{"field": "start_from", "value": node_id, "message": f"node '{node_id}' has no earlier outputs"}],
            )
        reused[node_id] = source
    return reused


def request_cancel(session: Session, owner_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    """Mark a run as cancelling; the engine stops its work and settles it."""
    run = repository.lock_run(session, run_id)
    if run is None or run.owner_id != owner_id:
        raise NotFoundError.for_resource("Run", run_id)
    status = RunStatus(run.status)
    if status in (RunStatus.QUEUED, RunStatus.RUNNING):
        drafts: list[EventDraft] = []
        set_run_status(run, RunStatus.CANCELLING, drafts)
        session.add(run)
        append_events(session, run_id, drafts)
    return run


def get_run(session: Session, owner_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    run = repository.get_run_for_owner(session, run_id, owner_id)
    if run is None:
        raise NotFoundError.for_resource("Run", run_id)
    return run


def run_detail(session: Session, run: Run) -> dict[str, Any]:
    items_by_node: dict[str, list[dict[str, Any]]] = {}
    may_be_billed = False
    for item in repository.items_of(session, run.id):
        may_be_billed = may_be_billed or item.may_be_billed
        items_by_node.setdefault(item.node_id, []).append(
            {
                "item_index": item.item_index, "status": item.status, "endpoint_id": item.endpoint_id,
                "fal_request_id": item.fal_request_id, "seed": item.seed, "arguments": item.arguments,
                "queue_position": item.queue_position, "progress": item.progress, "outputs": item.outputs,
                "asset_ids": item.asset_ids or [], "cost_credits": item.cost_credits, "attempts": item.attempts,
                "error": item.error, "error_code": item.error_code, "may_be_billed": item.may_be_billed,
                "in_flight": item.status in NODE_IN_FLIGHT,
            }
        )
    nodes = [
        {
            "node_id": node.node_id, "node_type": node.node_type, "status": node.status, "batch_count": node.batch_count,
            "cost_credits": node.cost_credits, "outputs": node.outputs, "error": node.error,
            "reused_from_run_id": node.reused_from_run_id, "items": items_by_node.get(node.node_id, []),
        }
        for node in repository.nodes_of(session, run.id)
    ]
    return {"nodes": nodes, "may_be_billed": may_be_billed}
