"""fal's queue API: submit, status (polling and SSE), result and cancel.

Status, result and cancel URLs use only ``[namespace/]owner/app`` of the endpoint id; submit uses the full
id. The router must be included last, because the submit route matches any POST path. Faults of status
and result calls follow the current configuration; a request's timing and run faults are fixed at submit.

NOTE: submit accepts fal's ``fal_webhook`` query parameter but never calls the webhook.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from falflow.sandbox.fal.access import check_access
from falflow.sandbox.fal.faults import FaultKind
from falflow.sandbox.fal.protocol import parse_logs_flag, status_body, submit_body
from falflow.sandbox.fal.records import RequestRecord
from falflow.sandbox.fal.state import StandinState

REQUEST_ID_HEADER = "x-fal-request-id"
# fal sends an SSE comment about every 15 s to keep idle status streams open.
_STREAM_KEEPALIVE_SECONDS = 15.0


def build_queue_router(state: StandinState) -> APIRouter:
    router = APIRouter()

    @router.get("/{app:path}/requests/{request_id}/status/stream", response_model=None)
    async def stream_status(app: str, request_id: str, request: Request) -> Response:
        rejection = check_access(state, request)
        if rejection is not None:
            return rejection
        record = _find(state, app, request_id)
        if isinstance(record, Response):
            return record
        faults = state.config.faults_for(record.endpoint_id)
        if state.faults.take(FaultKind.STATUS_RATE_LIMIT, record.endpoint_id, faults.rate_limit_status):
            return _rate_limited(faults.retry_after_seconds, record.request_id)
        record.status_streams += 1
        with_logs = parse_logs_flag(request.query_params.get("logs"))
        return StreamingResponse(
            _status_events(state, record, with_logs),
            media_type="text/event-stream",
            headers={REQUEST_ID_HEADER: record.request_id, "cache-control": "no-cache"},
        )

    @router.get("/{app:path}/requests/{request_id}/status", response_model=None)
    async def get_status(app: str, request_id: str, request: Request) -> Response:
        rejection = check_access(state, request)
        if rejection is not None:
            return rejection
        record = _find(state, app, request_id)
        if isinstance(record, Response):
            return record
        faults = state.config.faults_for(record.endpoint_id)
        if state.faults.take(FaultKind.STATUS_RATE_LIMIT, record.endpoint_id, faults.rate_limit_status):
            return _rate_limited(faults.retry_after_seconds, record.request_id)
        record.status_polls += 1
        body = status_body(
            record, state.queue.queue_position(record), with_logs=parse_logs_flag(request.query_params.get("logs"))
        )
        return _json(body, 200 if record.is_completed else 202, record.request_id)

    @router.put("/{app:path}/requests/{request_id}/cancel", response_model=None)
    async def cancel(app: str, request_id: str, request: Request) -> Response:
        rejection = check_access(state, request)
        if rejection is not None:
            return rejection
        record = state.queue.get(request_id)
        if record is None or record.app_path != app:
            return _json({"status": "NOT_FOUND", "detail": "Request not found"}, 404, request_id)
        if not state.queue.cancel(record):
            return _json({"status": "ALREADY_COMPLETED"}, 400, request_id)
        return _json({"status": "CANCELLATION_REQUESTED"}, 202, request_id)

    @router.get("/{app:path}/requests/{request_id}", response_model=None)
    async def get_result(app: str, request_id: str, request: Request) -> Response:
        rejection = check_access(state, request)
        if rejection is not None:
            return rejection
        record = _find(state, app, request_id)
        if isinstance(record, Response):
            return record
        if not record.is_completed or record.outcome is None:
            return _json({"detail": "Request is still in progress"}, 400, record.request_id)
        faults = state.config.faults_for(record.endpoint_id)
        if faults.slow_result_seconds > 0:
            await asyncio.sleep(faults.slow_result_seconds * state.config.time_scale)
        if state.faults.take(FaultKind.RESULT_SERVER_ERROR, record.endpoint_id, faults.result_server_errors):
            detail = [
                {"loc": [], "msg": "Internal server error (sandbox fault injection)", "type": "internal_server_error"}
            ]
            return _json({"detail": detail}, 500, record.request_id, {"x-fal-retryable": "true"})
        outcome = record.outcome
        return _json(outcome.body, outcome.status_code, record.request_id, outcome.headers)

    @router.post("/{endpoint_id:path}", response_model=None)
    async def submit(endpoint_id: str, request: Request) -> Response:
        rejection = check_access(state, request)
        if rejection is not None:
            return rejection
        schema = state.catalog.get(endpoint_id)
        if schema is None:
            return _json(
                {
                    "detail": f"Application '{endpoint_id}' not found. The sandbox serves the "
                    f"{len(state.catalog)} endpoints of falflow's catalog."
                },
                404,
            )
        faults = state.config.faults_for(endpoint_id)
        if state.faults.take(FaultKind.SUBMIT_RATE_LIMIT, endpoint_id, faults.rate_limit_submits):
            return _rate_limited(faults.retry_after_seconds, None)
        arguments = _parse_body(await request.body())
        if arguments is None:
            detail = [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}]
            return _json({"detail": detail}, 422)
        record = state.queue.submit(schema, arguments, base_url=state.base_url(request))
        return _json(submit_body(record, state.queue.queue_position(record)), 200, record.request_id)

    return router


async def _status_events(state: StandinState, record: RequestRecord, with_logs: bool) -> AsyncIterator[str]:
    """Yield an SSE event per status change and a keep-alive comment when idle; stop after COMPLETED.

    Each event carries only the log lines added since the previous event, as fal's stream does
    (fal's JavaScript client appends them). The request wakes the stream on each change of its
    own, and the queue wakes the streams of waiting requests when one starts, because their
    positions move then.
    """
    changed = asyncio.Event()
    record.watchers.add(changed)
    try:
        sent_logs = 0
        last: tuple[str, Any] | None = None
        while True:
            changed.clear()
            body = status_body(record, state.queue.queue_position(record), with_logs=with_logs)
            logs = body.get("logs")
            if isinstance(logs, list):
                body["logs"] = logs[sent_logs:]
            position = (body["status"], body.get("queue_position"))
            if body.get("logs") or position != last or record.is_completed:
                yield f"data: {json.dumps(body)}\n\n"
                last = position
                sent_logs = len(logs) if isinstance(logs, list) else sent_logs
            if record.is_completed:
                return
            try:
                await asyncio.wait_for(changed.wait(), _STREAM_KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": ping\n\n"
    finally:
        record.watchers.discard(changed)


def _find(state: StandinState, app: str, request_id: str) -> RequestRecord | Response:
    record = state.queue.get(request_id)
    if record is None or record.app_path != app:
        return _json({"detail": "Request not found"}, 404, request_id)
    return record


def _parse_body(raw: bytes) -> dict[str, Any] | None:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _rate_limited(retry_after_seconds: float, request_id: str | None) -> Response:
    return _json(
        {"detail": "Too many requests (sandbox fault injection)", "error_type": "rate_limited"},
        429,
        request_id,
        {"retry-after": f"{retry_after_seconds:g}"},
    )


def _json(
    body: Any, status_code: int, request_id: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    merged = dict(headers or {})
    if request_id is not None:
        merged[REQUEST_ID_HEADER] = request_id
    return JSONResponse(body, status_code=status_code, headers=merged)
