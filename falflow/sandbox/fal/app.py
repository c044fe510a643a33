"""``create_fal_standin``: the FastAPI app that speaks fal's queue protocol without fal.

Every response carries ``x-falflow-sandbox: 1``; queue responses also carry fal's ``x-fal-request-id``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from falflow.sandbox.fal.config import FalStandinConfig
from falflow.sandbox.fal.routes_control import build_control_router
from falflow.sandbox.fal.routes_files import build_files_router
from falflow.sandbox.fal.routes_platform import build_platform_router
from falflow.sandbox.fal.routes_queue import build_queue_router
from falflow.sandbox.fal.state import StandinState

SANDBOX_HEADER = (b"x-falflow-sandbox", b"1")


class SandboxHeaderMiddleware:
    """Add ``x-falflow-sandbox: 1`` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), SANDBOX_HEADER]}
            await send(message)

        await self.app(scope, receive, send_with_header)


def create_fal_standin(config: FalStandinConfig | None = None) -> FastAPI:
    """Build the stand-in app; its state (requests, files, counters) lives in this app object."""
    state = StandinState(config or FalStandinConfig())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await state.queue.shutdown()

    app = FastAPI(
        title="falflow fal stand-in",
        description="Offline stand-in for fal.ai's queue API; outputs are labelled SANDBOX.",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
    )
    app.state.standin = state
    app.add_middleware(SandboxHeaderMiddleware)
    app.include_router(build_control_router(state))
    app.include_router(build_files_router(state))
    app.include_router(build_platform_router(state))
    app.include_router(build_queue_router(state))
    return app
