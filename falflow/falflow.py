"""The Reflex app: the UI pages, with the FastAPI app mounted at `/api` on the same backend."""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.api import mount_api
from falflow.runtime import app_lifespan
from falflow.ui.pages import register as register_pages


def _mount_api(frontend: Any) -> Any:
    return mount_api(frontend)


app = rx.App(
    api_transformer=_mount_api,
    stylesheets=["/falflow.css"],
)
app.register_lifespan_task(app_lifespan)
register_pages(app)
