"""Control and observability routes under ``/_sandbox/``; fal has no such routes.

- ``GET /_sandbox/health``: liveness;
- ``GET``/``PUT /_sandbox/config``: read or replace the whole ``FalStandinConfig``;
- ``PATCH /_sandbox/config``: merge the given fields into it (nested objects merge too);
- ``PUT``/``DELETE /_sandbox/endpoints/{endpoint_id}``: set or drop one endpoint's override;
- ``POST /_sandbox/reset``: forget requests, files and counters and restore the start configuration;
- ``GET /_sandbox/requests[?endpoint_id=...]``: every submitted request with its arguments, duplicate
  count and timestamps (Unix seconds), so tests can check overlap and duplicate submits.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import JSONResponse, Response

from falflow.sandbox.fal.config import EndpointOverride, FalStandinConfig
from falflow.sandbox.fal.records import RequestRecord
from falflow.sandbox.fal.state import StandinState


def build_control_router(state: StandinState) -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "sandbox": True, "endpoints": len(state.catalog)}

    @router.get("/config")
    async def get_config() -> dict[str, Any]:
        return state.config.model_dump(mode="json")

    @router.put("/config")
    async def put_config(config: FalStandinConfig) -> dict[str, Any]:
        await state.set_config(config)
        return state.config.model_dump(mode="json")

    @router.patch("/config", response_model=None)
    async def patch_config(changes: dict[str, Any]) -> Response:
        merged = _deep_merge(state.config.model_dump(mode="json"), changes)
        try:
            config = FalStandinConfig.model_validate(merged)
        except ValidationError as exc:
            return JSONResponse({"detail": exc.errors(include_url=False, include_context=False)}, status_code=422)
        await state.set_config(config)
        return JSONResponse(state.config.model_dump(mode="json"))

    @router.put("/endpoints/{endpoint_id:path}", response_model=None)
    async def put_endpoint(endpoint_id: str, override: EndpointOverride) -> Response:
        if endpoint_id not in state.catalog:
            return JSONResponse({"detail": f"Unknown endpoint id {endpoint_id!r}"}, status_code=404)
        endpoints = {**state.config.endpoints, endpoint_id: override}
        await state.set_config(state.config.model_copy(update={"endpoints": endpoints}))
        return JSONResponse(state.config.model_dump(mode="json"))

    @router.delete("/endpoints/{endpoint_id:path}")
    async def delete_endpoint(endpoint_id: str) -> dict[str, Any]:
        endpoints = {key: value for key, value in state.config.endpoints.items() if key != endpoint_id}
        await state.set_config(state.config.model_copy(update={"endpoints": endpoints}))
        return state.config.model_dump(mode="json")

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        await state.reset()
        return {"status": "reset"}

    @router.get("/requests")
    async def list_requests(endpoint_id: str | None = None) -> dict[str, Any]:
        records = [record for record in state.queue.records() if endpoint_id in (None, record.endpoint_id)]
        return {
            "requests": [_describe(state, record) for record in records],
            "injected_faults": state.faults.snapshot(),
        }

    return router


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(state: StandinState, record: RequestRecord) -> dict[str, Any]:
    outcome = record.outcome
    return {
        "request_id": record.request_id,
        "endpoint_id": record.endpoint_id,
        "arguments": record.arguments,
        "fingerprint": record.fingerprint,
        "submit_index": record.submit_index,
        "submit_count": state.queue.submit_count(record.fingerprint),
        "status": record.state.value,
        "outcome": outcome.kind.value if outcome is not None else None,
        "result_status_code": outcome.status_code if outcome is not None else None,
        "created_at": record.created_at,
        "started_at": record.started_at,
        "completed_at": record.completed_at,
        "status_polls": record.status_polls,
        "status_streams": record.status_streams,
    }
