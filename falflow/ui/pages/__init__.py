"""Page registration: each module adds its routes to the app."""

from __future__ import annotations

import reflex as rx

from falflow.ui.pages import auth, billing, editor, gallery, home, runs, workflows


def register(app: rx.App) -> None:
    for module in (home, auth, workflows, editor, runs, gallery, billing):
        module.register(app)
