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
from falflow.kit.http import RequestIdMiddleware, install_error_handlers
from falflow.runs.endpoints import router as runs_router
from falflow.workflows.endpoints import router as workflows_router

API_TITLE = "falflow API"
API_VERSION = "0.1.0"


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
    api.add_middleware(RequestIdMiddleware)

    def custom_openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(title=api.title, version=api.version, routes=api.routes, servers=api.servers)
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        }
        schema["security"] = [{"bearerAuth": []}]
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


def mount_api(frontend: Any | None = None, *, api: FastAPI | None = None) -> Any:
    """Serve the API at `/api` and everything else with `frontend` (Reflex's ASGI app)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    routes = [Mount("/api", app=api or create_api())]
    if frontend is not None:
        routes.append(Mount("/", app=frontend))
    return Starlette(routes=routes)


def create_standalone_app() -> Any:
    """The API with falflow's services (stand-ins, run engine) in its own lifespan, without the UI.

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

    return Starlette(routes=[Mount("/api", app=create_api())], lifespan=lifespan)
