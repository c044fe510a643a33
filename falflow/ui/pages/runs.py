"""The runs history (`/runs`) and one run in detail (`/runs/[run_id]`)."""

from __future__ import annotations

import reflex as rx

from falflow.ui.components.run_detail_state import RunDetailState
from falflow.ui.components.run_detail_view import activity_feed, header, node_list
from falflow.ui.components.runs_list_state import RunsListState
from falflow.ui.components.runs_view import runs_table
from falflow.ui.layout import app_shell
from falflow.ui.session import SessionState


def runs_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Runs", size="6"),
                rx.spacer(),
                rx.button(rx.icon("refresh-cw", size=14), "Refresh", variant="soft", size="2",
                          on_click=RunsListState.refresh, id="runs-refresh"),
                width="100%",
                align="center",
            ),
            runs_table(),
            spacing="4",
            width="100%",
            max_width="1200px",
        )
    )


def run_detail_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("All runs", size="2"), align="center"),
                    href="/runs", color_scheme="gray"),
            rx.cond(
                RunDetailState.load_error != "",
                rx.callout(RunDetailState.load_error, icon="triangle_alert", color_scheme="red", width="100%",
                           id="run-load-error"),
                rx.cond(
                    RunDetailState.loading,
                    rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
                    rx.grid(
                        rx.vstack(header(), node_list(), spacing="4", width="100%"),
                        rx.box(activity_feed(), position="sticky", top="1em"),
                        columns="minmax(0, 1fr) 320px",
                        spacing="4",
                        width="100%",
                        align="start",
                    ),
                ),
            ),
            spacing="3",
            width="100%",
            max_width="1400px",
        )
    )


def register(app: rx.App) -> None:
    app.add_page(runs_page, route="/runs", title="Runs · falflow", on_load=[SessionState.require_login, RunsListState.load])
    app.add_page(run_detail_page, route="/runs/[run_id]", title="Run · falflow",
                 on_load=[SessionState.require_login, RunDetailState.load])
