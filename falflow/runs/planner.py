"""The run's bookkeeping between node executions: what is ready, what is blocked, when it ends.

`advance_run` is called when a run starts and whenever one of its items finishes. Inside
one transaction (the run row locked) it evaluates ready utility nodes on the spot, turns
ready fal nodes into items (arguments and seeds fixed and stored before anything is sent),
blocks the descendants of failed nodes, and settles the run once every node is terminal.
It is idempotent: calling it again with nothing new changes nothing.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from falflow.billing import ledger
from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import WorkflowDocument, migrate_document
from falflow.graph.errors import GraphError
from falflow.graph.evaluate import combine_batch_outputs, resolve_inputs, run_utility
from falflow.graph.scheduler import ExecutionPlan
from falflow.graph.shapes import infer_shapes
from falflow.graph.utility_specs import MAX_SEED, UTIL_IMAGE_INPUT, UTIL_SEED
from falflow.kit.timeutil import utcnow
from falflow.runs import repository
from falflow.runs.events import EventDraft, append_events
from falflow.runs.models import Run, RunNode, RunNodeItem
from falflow.runs.states import (
    NODE_DONE,
    NODE_IN_FLIGHT,
    NODE_TERMINAL,
    NodeStatus,
    RunStatus,
    check_node_transition,
    check_run_transition,
    summarize_items,
)

logger = logging.getLogger("falflow.runs")

# Utility nodes that need I/O (the image input uploads its asset to fal) run as items.
ITEM_UTILITY_TYPES = frozenset({UTIL_IMAGE_INPUT})


@dataclass
class Advance:
    """Next work of the caller's engine workflow: items to start as child workflows, and one item to run itself."""

    start: list[tuple[str, int]] = field(default_factory=list)
    inline: tuple[str, int] | None = None
    finished: bool = False


def plan_for(run: Run, catalog: NodeCatalog) -> tuple[WorkflowDocument, ExecutionPlan]:
    document = migrate_document(run.document)
    plan = ExecutionPlan.from_document(
        document, catalog, only_up_to=run.options.get("only_up_to"), start_from=run.options.get("start_from")
    )
    return document, plan


def set_node_status(node: RunNode, status: NodeStatus, drafts: list[EventDraft], **data: Any) -> None:
    current = NodeStatus(node.status)
    if current == status:
        return
    check_node_transition(current, status)
    node.status = status.value
    if status in NODE_TERMINAL:
        node.finished_at = utcnow()
    elif node.started_at is None and status != NodeStatus.PENDING:
        node.started_at = utcnow()
    drafts.append(EventDraft("node.status", node_id=node.node_id, data={"status": status.value, **data}))


def set_run_status(run: Run, status: RunStatus, drafts: list[EventDraft], **data: Any) -> None:
    check_run_transition(RunStatus(run.status), status)
    run.status = status.value
    if status == RunStatus.RUNNING:
        run.started_at = utcnow()
    drafts.append(EventDraft("run.status", data={"status": status.value, **data}))


def advance_run(
    session: Session, run_id: uuid.UUID, catalog: NodeCatalog, *, owner: str, inline: bool, locked_run: Run | None = None
) -> Advance:
    """Bring the run forward and hand every queued item that no workflow runs yet to `owner`.

    `owner` is the engine workflow that acts on the result. With `inline`, it runs one new item
    itself as its next step, which saves a workflow start per node of a chain. The result
    lists every queued item handed to `owner`, earlier ones included, so a workflow that
    repeats this step after a crash gets the same work back. `locked_run` is the run row when the
    caller's transaction has locked it already.
    """
    run = locked_run if locked_run is not None else repository.lock_run(session, run_id)
    if run is None or RunStatus(run.status) in {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}:
        return Advance(finished=True)
    drafts: list[EventDraft] = []
    if run.status == RunStatus.QUEUED:
        set_run_status(run, RunStatus.RUNNING, drafts)

    document, plan = plan_for(run, catalog)
    nodes = {node.node_id: node for node in repository.nodes_of(session, run_id)}
    items_by_node: dict[str, list[RunNodeItem]] = {}
    for item in repository.items_of(session, run_id):
        items_by_node.setdefault(item.node_id, []).append(item)

    _refresh_from_items(nodes, items_by_node, catalog, document, drafts)

    if run.status == RunStatus.CANCELLING:
        _cancel_unstarted(nodes, items_by_node, drafts)
    else:
        _evaluate_ready(session, run, document, plan, nodes, items_by_node, catalog, drafts)

    result = _hand_out(items_by_node, owner, inline)
    plan_nodes = [nodes[node_id] for node_id in plan.order if node_id in nodes]
    if all(NodeStatus(node.status) in NODE_TERMINAL for node in plan_nodes):
        _finish(session, run, plan_nodes, drafts)
        result.finished = True
    session.add_all(list(nodes.values()))
    session.add(run)
    append_events(session, run_id, drafts)
    return result


def _hand_out(items_by_node: dict[str, list[RunNodeItem]], owner: str, inline: bool) -> Advance:
    queued = sorted(
        (item for items in items_by_node.values() for item in items if item.status == NodeStatus.QUEUED),
        key=lambda item: (item.node_id, item.item_index),
    )
    inline_owner = f"inline:{owner}"
    unclaimed = [item for item in queued if item.dispatched_by is None]
    if inline and unclaimed and not any(item.dispatched_by == inline_owner for item in queued):
        unclaimed[0].dispatched_by = inline_owner
        unclaimed = unclaimed[1:]
    for item in unclaimed:
        item.dispatched_by = owner
    return Advance(
        start=[(item.node_id, item.item_index) for item in queued if item.dispatched_by == owner],
        inline=next(((item.node_id, item.item_index) for item in queued if item.dispatched_by == inline_owner), None),
    )


def _refresh_from_items(
    nodes: dict[str, RunNode],
    items_by_node: dict[str, list[RunNodeItem]],
    catalog: NodeCatalog,
    document: WorkflowDocument,
    drafts: list[EventDraft],
) -> None:
    """Fold finished items into their node: status, merged outputs and cost."""
    node_map = document.node_map()
    for node_id, items in items_by_node.items():
        node = nodes[node_id]
        if NodeStatus(node.status) in NODE_TERMINAL:
            continue
        status = summarize_items([NodeStatus(item.status) for item in items])
        if len(items) != (node.batch_count or 0):
            continue
        if status in NODE_DONE:
            spec = catalog.get(node.node_type)
            ordered = sorted(items, key=lambda i: i.item_index)
            if spec is not None and node.batch_count is not None and _is_batched(node_id, document, catalog):
                node.outputs = combine_batch_outputs(spec, node_map[node_id].params, [i.outputs or {} for i in ordered])
            else:
                node.outputs = ordered[0].outputs or {}
            node.cost_credits = sum(item.cost_credits for item in items)
            set_node_status(node, status, drafts, cost_credits=node.cost_credits)
        elif status in {NodeStatus.FAILED, NodeStatus.CANCELLED} and all(NodeStatus(i.status) in NODE_TERMINAL for i in items):
            errors = [item.error for item in items if item.error]
            node.error = errors[0] if errors else None
            node.cost_credits = sum(item.cost_credits for item in items)
            set_node_status(node, status, drafts, error=node.error)
        elif status in NODE_IN_FLIGHT and NodeStatus(node.status) != status:
            set_node_status(node, status, drafts)


def _is_batched(node_id: str, document: WorkflowDocument, catalog: NodeCatalog) -> bool:
    shape = infer_shapes(document, catalog).get(node_id)
    return bool(shape and shape.batched)


def _cancel_unstarted(
    nodes: dict[str, RunNode], items_by_node: dict[str, list[RunNodeItem]], drafts: list[EventDraft]
) -> None:
    for node in nodes.values():
        if node.status == NodeStatus.PENDING:
            set_node_status(node, NodeStatus.CANCELLED, drafts)
        for item in items_by_node.get(node.node_id, []):
            if item.status == NodeStatus.QUEUED and item.fal_request_id is None:
                item.status = NodeStatus.CANCELLED.value
                item.finished_at = utcnow()
        items = items_by_node.get(node.node_id, [])
        if items and NodeStatus(node.status) not in NODE_TERMINAL and all(NodeStatus(i.status) in NODE_TERMINAL for i in items):
            status = summarize_items([NodeStatus(i.status) for i in items])
            set_node_status(node, status if status in NODE_TERMINAL else NodeStatus.CANCELLED, drafts)


def _evaluate_ready(
    session: Session,
    run: Run,
    document: WorkflowDocument,
    plan: ExecutionPlan,
    nodes: dict[str, RunNode],
    items_by_node: dict[str, list[RunNodeItem]],
    catalog: NodeCatalog,
    drafts: list[EventDraft],
) -> None:
    node_map = document.node_map()
    while True:
        done = {n for n, node in nodes.items() if node.status in NODE_DONE}
        failed = {n for n, node in nodes.items() if node.status in (NodeStatus.FAILED, NodeStatus.CANCELLED)}
        for failed_id in failed & set(plan.order):
            for descendant in plan.descendants(failed_id):
                node = nodes[descendant]
                if node.status == NodeStatus.PENDING:
                    set_node_status(node, NodeStatus.BLOCKED, drafts, because_of=failed_id)
        blocked = {n for n, node in nodes.items() if node.status == NodeStatus.BLOCKED}
        running = {n for n, node in nodes.items() if node.status not in (NodeStatus.PENDING,) and n not in done | failed | blocked}
        ready = [n for n in plan.ready(done, running, failed, blocked) if nodes[n].status == NodeStatus.PENDING]
        if not ready:
            return
        progressed = False
        for node_id in ready:
            node = nodes[node_id]
            spec = catalog.get(node.node_type)
            assert spec is not None  # the plan rejects unknown types
            upstream = {
                (source_id, port): value
                for source_id, source in nodes.items()
                if source.status in NODE_DONE and source.outputs
                for port, value in source.outputs.items()
            }
            try:
                runs = resolve_inputs(node_map[node_id], spec, upstream, edges=document.edges)
            except GraphError as exc:
                node.error = str(exc)
                set_node_status(node, NodeStatus.FAILED, drafts, error=node.error)
                progressed = True
                continue
            if spec.kind == "utility" and spec.type not in ITEM_UTILITY_TYPES:
                try:
                    outputs = _run_utility_node(node_map[node_id], spec, runs, _is_batched(node_id, document, catalog))
                except GraphError as exc:
                    node.error = str(exc)
                    set_node_status(node, NodeStatus.FAILED, drafts, error=node.error)
                else:
                    node.outputs = outputs
                    node.batch_count = len(runs)
                    set_node_status(node, NodeStatus.SUCCEEDED, drafts, outputs=outputs)
                progressed = True
                continue
            node.batch_count = len(runs)
            if not runs:
                node.outputs = {}
                set_node_status(node, NodeStatus.SUCCEEDED, drafts, batch_count=0)
                progressed = True
                continue
            new_items = [_new_item(run, node, spec, index, arguments) for index, arguments in enumerate(runs)]
            for item in new_items:
                repository.add(session, item)
            items_by_node[node_id] = new_items
            set_node_status(node, NodeStatus.QUEUED, drafts, batch_count=len(runs))
        if not progressed:
            return


def _run_utility_node(node: Any, spec: Any, runs: list[dict[str, Any]], batched: bool) -> dict[str, Any]:
    outputs = []
    for arguments in runs:
        random_seed = secrets.randbelow(MAX_SEED + 1) if spec.type == UTIL_SEED else None
        outputs.append(run_utility(node, spec, arguments, random_seed=random_seed))
    if batched:
        return combine_batch_outputs(spec, node.params, outputs)
    return outputs[0] if outputs else {}


def _new_item(run: Run, node: RunNode, spec: Any, index: int, arguments: dict[str, Any]) -> RunNodeItem:
    seed: int | None = None
    if spec.kind == "fal" and spec.param("seed") is not None:
        if arguments.get("seed") is None:
            # Chosen here and stored before submit, so the request can be replayed exactly.
            arguments["seed"] = secrets.randbelow(2**31)
        seed = int(arguments["seed"])
    return RunNodeItem(
        run_id=run.id,
        node_id=node.node_id,
        item_index=index,
        endpoint_id=spec.type if spec.kind == "fal" else None,
        status=NodeStatus.QUEUED.value,
        arguments=arguments,
        seed=seed,
    )


def _finish(session: Session, run: Run, plan_nodes: list[RunNode], drafts: list[EventDraft]) -> None:
    """Release the unspent hold and give the run its final status."""
    released = ledger.release_reservation(session, reservation_id=run.reservation_id) if run.reservation_id else 0
    statuses = {NodeStatus(node.status) for node in plan_nodes}
    charged = sum(node.cost_credits for node in plan_nodes)
    run.charged_credits = charged
    run.finished_at = utcnow()
    if run.status == RunStatus.CANCELLING or NodeStatus.CANCELLED in statuses:
        final = RunStatus.CANCELLED
    elif statuses <= NODE_DONE:
        final = RunStatus.SUCCEEDED
    else:
        final = RunStatus.FAILED
        failed = [node for node in plan_nodes if node.status == NodeStatus.FAILED]
        run.error = f"{len(failed)} node(s) failed: " + "; ".join(f"{n.node_id}: {n.error}" for n in failed[:3])
    if run.status == RunStatus.QUEUED:
        set_run_status(run, RunStatus.RUNNING, drafts)
    set_run_status(run, final, drafts, charged_credits=charged, released_credits=released, error=run.error)
    logger.info("run.finished", extra={"run_id": str(run.id), "status": final.value, "charged_credits": charged})
