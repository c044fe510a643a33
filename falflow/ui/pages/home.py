"""The root URL sends people to their workflows or to log in."""

from __future__ import annotations

import reflex as rx

from falflow.ui.session import SessionState


def index_page() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


def register(app: rx.App) -> None:
    app.add_page(index_page, route="/", title="falflow", on_load=SessionState.redirect_if_signed_in_else_login)
