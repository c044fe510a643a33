"""`/api/workflows/{id}/run` and `/api/runs/*`, including the event log as JSON and as SSE."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import IntegrityError

from falflow.kit.auth import Context, CurrentUserId
from falflow.kit.errors import InvalidInputError
from falflow.runs import repository, service
from falflow.runs.engine import first_advance, get_engine
from falflow.runs.events import event_bus, event_to_dict, wait_for_news
from falflow.runs.models import Run
from falflow.runs.schemas import RunAccepted, RunDetail, RunPublic, RunRequest
from falflow.runs.states import RUN_TERMINAL, RunStatus
from falflow.workflows.endpoints import get_catalog

router = APIRouter(tags=["runs"])

MAX_EVENTS_PAGE = 1000
MAX_OFFSET = 1_000_000
MAX_SEQ = 2**31 - 1
SSE_KEEPALIVE_SECONDS = 15.0
# Another process may write the events (a run worker), so the stream also re-reads the log
# this often when no in-process notification arrives.
SSE_POLL_SECONDS = 1.0


def _public(run: Run) -> RunPublic:
    return RunPublic(
        id=run.id, workflow_id=run.workflow_id, workflow_version=run.workflow_version, status=run.status, mode=run.mode,
        estimated_credits=run.estimated_credits, charged_credits=run.charged_credits, error=run.error, note=run.note,
        options=run.options, last_event_seq=run.event_seq, created_at=run.created_at, started_at=run.started_at,
        finished_at=run.finished_at,
    )


@router.post("/workflows/{workflowId}/run", status_code=status.HTTP_202_ACCEPTED, response_model=RunAccepted)
async def run_workflow(
    workflowId: uuid.UUID,  # noqa: N803
    user_id: CurrentUserId,
    context: Context,
    body: RunRequest | None = None,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> RunAccepted:
    """Validate, estimate and hold credits (402 when short), snapshot the workflow, and start the run."""
    request = body or RunRequest()

    def create() -> tuple[Run, dict[str, Any] | None]:
        with context.database.write_session() as session:
            # A repeated Idempotency-Key returns the run it created, which its workflow already runs.
            repeated = idempotency_key is not None and repository.get_run_by_request_key(
                session, user_id, idempotency_key
            ) is not None
            run = service.start_run(
                session, owner_id=user_id, workflow_id=workflowId, catalog=get_catalog(),
                options=service.RunOptions(request.base_version, request.only_up_to, request.start_from, request.force),
                margin_bps=context.settings.price_margin_bps, mode=context.settings.mode.value, request_key=idempotency_key,
            )
            return run, None if repeated else first_advance(session, run)

    decision = None
    try:
        run, decision = await asyncio.to_thread(create)
    except IntegrityError:
        # Two requests with the same Idempotency-Key raced; the other one created the run.
        if not idempotency_key:
            raise

        def existing() -> Run | None:
            with context.database.read_session() as session:
                return repository.get_run_by_request_key(session, user_id, idempotency_key)

        found = await asyncio.to_thread(existing)
        if found is None:
            raise
        run = found
    await get_engine().start(run.id, decision)
    base = f"/api/runs/{run.id}"
    return RunAccepted(
        run_id=run.id, status=run.status, estimated_credits=run.estimated_credits, status_url=base,
        events_url=f"{base}/events", stream_url=f"{base}/events/stream",
    )


@router.get("/runs", response_model=list[RunPublic])
def list_runs(
    user_id: CurrentUserId, context: Context, workflow_id: uuid.UUID | None = None,
    limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[RunPublic]:
    with context.database.read_session() as session:
        return [_public(r) for r in repository.list_runs(session, user_id, workflow_id=workflow_id, limit=limit, offset=offset)]


@router.get("/runs/{runId}", response_model=RunDetail)
def get_run(runId: uuid.UUID, user_id: CurrentUserId, context: Context) -> RunDetail:  # noqa: N803
    """Status, per-node states and items, cost so far, and outputs (with asset ids)."""
    with context.database.read_session() as session:
        run = service.get_run(session, user_id, runId)
        detail = service.run_detail(session, run)
    public = _public(run)
    if detail["may_be_billed"]:
        public.note = "Some cancelled requests had already started at fal, which may bill them; falflow did not charge you."
    return RunDetail(**public.model_dump(), document=run.document, nodes=detail["nodes"])


@router.post("/runs/{runId}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=RunPublic)
async def cancel_run(runId: uuid.UUID, user_id: CurrentUserId, context: Context) -> RunPublic:  # noqa: N803
    """Cancel a run: queued fal requests are cancelled, finished nodes stay charged, the rest of the hold is released."""

    def mark() -> Run:
        with context.database.write_session() as session:
            return service.request_cancel(session, user_id, runId)

    run = await asyncio.to_thread(mark)
    if RunStatus(run.status) not in RUN_TERMINAL:
        await get_engine().cancel(run.id)
    with context.database.read_session() as session:
        return _public(service.get_run(session, user_id, runId))


def _read_events(context: Any, user_id: uuid.UUID, run_id: uuid.UUID, after: int, limit: int) -> tuple[list[dict[str, Any]], str]:
    with context.database.read_session() as session:
        run = service.get_run(session, user_id, run_id)
        events = [event_to_dict(e) for e in repository.events_after(session, run_id, after, limit)]
        return events, run.status


@router.get("/runs/{runId}/events")
async def list_events(
    runId: uuid.UUID, user_id: CurrentUserId, context: Context,  # noqa: N803
    after: int = Query(0, ge=0, le=MAX_SEQ, description="Return events with a sequence number greater than this."),
    limit: int = Query(500, ge=1, le=MAX_EVENTS_PAGE),
) -> dict[str, Any]:
    events, run_status = await asyncio.to_thread(_read_events, context, user_id, runId, after, limit)
    return {"run_id": str(runId), "status": run_status, "events": events,
            "next_after": events[-1]["seq"] if events else after}


@router.get("/runs/{runId}/events/stream")
async def stream_events(
    runId: uuid.UUID, request: Request, user_id: CurrentUserId, context: Context,  # noqa: N803
    after: int = Query(0, ge=0, le=MAX_SEQ), last_event_id: str | None = Header(default=None, max_length=20),
) -> StreamingResponse:
    """Server-sent events from sequence `after` (or the `Last-Event-ID` header) until the run ends."""
    cursor = after
    if last_event_id:
        if not (last_event_id.isascii() and last_event_id.isdigit() and int(last_event_id) <= MAX_SEQ):
            raise InvalidInputError(
                f"Last-Event-ID {last_event_id[:20]!r} is not an event number; send the id of the last event received.",
                errors=[{"field": "Last-Event-ID", "value": last_event_id[:20], "message": "Last-Event-ID: not an event number"}],
            )
        cursor = int(last_event_id)
    await asyncio.to_thread(_read_events, context, user_id, runId, cursor, 1)  # 404 before streaming starts

    async def stream() -> AsyncIterator[bytes]:
        position = cursor
        idle = 0.0
        with event_bus.listen(runId) as news:
            while True:
                news.clear()
                events, run_status = await asyncio.to_thread(_read_events, context, user_id, runId, position, MAX_EVENTS_PAGE)
                for event in events:
                    position = event["seq"]
                    yield f"id: {position}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
                if not events and RunStatus(run_status) in RUN_TERMINAL:
                    yield b"event: end\ndata: {}\n\n"
                    return
                if events:
                    idle = 0.0
                    continue
                if await request.is_disconnected():
                    return
                if not await wait_for_news(news, SSE_POLL_SECONDS):
                    idle += SSE_POLL_SECONDS
                    if idle >= SSE_KEEPALIVE_SECONDS:
                        idle = 0.0
                        yield b": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
