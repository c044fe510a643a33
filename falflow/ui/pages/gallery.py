"""The Assets page (`/assets`): every output in a filterable grid, with a lightbox and lineage."""

from __future__ import annotations

import reflex as rx

from falflow.ui.components.gallery_state import GalleryState
from falflow.ui.components.gallery_view import filter_bar, grid, lightbox
from falflow.ui.layout import app_shell
from falflow.ui.session import SessionState


def gallery_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Assets", size="6"),
                rx.cond(
                    GalleryState.loaded > 0,
                    rx.text(GalleryState.loaded, rx.cond(GalleryState.done, " shown", "+ shown"), size="2",
                            color_scheme="gray", id="gallery-count"),
                ),
                rx.spacer(),
                rx.icon_button(rx.icon("refresh-cw", size=16), variant="ghost", on_click=GalleryState.reload,
                               title="Reload", id="gallery-reload"),
                align="center",
                width="100%",
            ),
            filter_bar(),
            grid(),
            lightbox(),
            spacing="3",
            width="100%",
        )
    )


def register(app: rx.App) -> None:
    app.add_page(gallery_page, route="/assets", title="Assets · falflow",
                 on_load=[SessionState.require_login, GalleryState.load])
