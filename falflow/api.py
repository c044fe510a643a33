"""The FastAPI application served under `/api` on Reflex's backend.

`create_api()` builds a fresh instance each call, because Reflex adds middleware to the app it
is given and an app that has served cannot take more.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from falflow.accounts.endpoints import router as accounts_router
from falflow.assets.endpoints import router as assets_router
from falflow.billing.endpoints import router as billing_router
from falflow.billing.endpoints import webhook_router as stripe_webhook_router
from falflow.kit.http import BodySizeLimitMiddleware, RequestIdMiddleware, install_error_handlers
from falflow.runs.endpoints import router as runs_router
from falflow.workflows.endpoints import router as workflows_router

API_TITLE = "falflow API"
API_VERSION = "0.1.0"
# Uploads (25 MiB by default) are the largest bodies the API takes.
MAX_REQUEST_BYTES = 32 * 1024 * 1024


def _routers() -> list[Any]:
    return [accounts_router, workflows_router, runs_router, assets_router, billing_router, stripe_webhook_router]


def create_api() -> FastAPI:
    api = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        servers=[{"url": "/api"}],
    )
    for router in _routers():
        api.include_router(router)
    install_error_handlers(api)

    def custom_openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(title=api.title, version=api.version, routes=api.routes, servers=api.servers)
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        }
        schema["security"] = [{"bearerAuth": []}]
        _document_error_bodies(schema)
        # Routes declare their own security through the HTTPBearer dependency; drop the
        # duplicate per-operation entry so the document-wide default is what applies.
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if isinstance(operation, dict) and operation.get("security") == [{"bearerAuth": []}]:
                    del operation["security"]
        api.openapi_schema = schema
        return schema

    api.openapi = custom_openapi  # type: ignore[method-assign]
    return api


_ERROR_BODY = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "Stable error type, e.g. not_found, insufficient_credits."},
        "detail": {"type": "string", "description": "What failed, on which value, and what to do."},
        "errors": {
            "type": "array",
            "description": "For validation errors: one entry per field.",
            "items": {"type": "object", "properties": {"field": {"type": "string"}, "value": {}, "message": {"type": "string"}}},
        },
    },
    "additionalProperties": True,
}
_ERROR_STATUSES = {
    "400": "Bad request", "401": "Not authenticated", "402": "Not enough credits", "403": "Forbidden",
    "404": "Not found", "409": "Conflict", "413": "Payload too large", "415": "Unsupported media type",
    "416": "Range not satisfiable", "422": "Validation error", "429": "Too many requests", "500": "Server error",
}


def _document_error_bodies(schema: dict[str, Any]) -> None:
    """Describe the real error body on every operation instead of FastAPI's default 422 shape."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = _ERROR_BODY
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    reference = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in _ERROR_STATUSES.items():
                if status == "422" or status in responses:
                    responses[status] = {"description": description, **reference}
            responses.setdefault("4XX", {"description": "Client error", **reference})
            responses.setdefault("5XX", {"description": "Server error", **reference})


def mount_api(frontend: Any | None = None, *, api: FastAPI | None = None) -> Any:
    """Serve the API at `/api` and everything else with `frontend` (Reflex's ASGI app)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    # The request id wraps FastAPI's own error middleware, so even a 500 carries it.
    routes = [Mount("/api", app=RequestIdMiddleware(BodySizeLimitMiddleware(api or create_api(), MAX_REQUEST_BYTES)))]
    if frontend is not None:
        routes.append(Mount("/", app=frontend))
    return Starlette(routes=routes)


def create_standalone_app() -> Any:
    """Build the API with falflow's services (stand-ins, run engine) in its own lifespan, without the UI.

    Tests, benchmarks and `python -m falflow.serve_api` use it; the Reflex app runs the same
    services through its lifespan task instead.
    """
    import contextlib

    from starlette.applications import Starlette
    from starlette.routing import Mount

    from falflow.runtime import running_services

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> Any:
        async with running_services():
            yield

    return Starlette(routes=mount_api().routes, lifespan=lifespan)
