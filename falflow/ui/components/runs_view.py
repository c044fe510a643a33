"""Sections of the runs history page: the table, its pager and the empty state."""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.ui.components.runs_list_state import RunsListState
from falflow.ui.components.status import status_badge

COLUMNS = ("Workflow", "Status", "Started", "Finished", "Duration", "Estimated", "Charged")


def _row(run: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(run["workflow_name"].to(str), href="/runs/" + run["id"].to(str), weight="medium", class_name="run-link"),
                rx.text("v", run["workflow_version"].to(str), " · ", run["id"].to(str)[:8], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.hstack(
                status_badge(run["status"].to(str)),
                rx.cond(
                    run["note"].to(str) != "",
                    rx.tooltip(rx.icon("info", size=15, color=rx.color("amber", 10), class_name="run-note"),
                               content=run["note"].to(str)),
                ),
                align="center",
                spacing="2",
            )
        ),
        rx.table.cell(rx.cond(run["started"].to(str) != "", run["started"].to(str), run["created"].to(str))),
        rx.table.cell(run["finished"].to(str)),
        rx.table.cell(run["duration"].to(str)),
        rx.table.cell(run["estimated"].to(str)),
        rx.table.cell(run["charged"].to(str)),
        class_name="run-row",
        data_status=run["status"].to(str),
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(RunsListState.page_label, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=16), "Newer", variant="soft", size="1",
                  disabled=RunsListState.offset == 0, on_click=RunsListState.newer, id="runs-newer"),
        rx.button("Older", rx.icon("chevron-right", size=16), variant="soft", size="1",
                  disabled=~RunsListState.has_more, on_click=RunsListState.older, id="runs-older"),
        width="100%",
        align="center",
    )


def runs_table() -> rx.Component:
    return rx.cond(
        RunsListState.rows.length() > 0,
        rx.vstack(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(title) for title in COLUMNS])),
                rx.table.body(rx.foreach(RunsListState.rows, _row)),
                width="100%",
                id="runs-table",
            ),
            _pager(),
            width="100%",
            spacing="3",
        ),
        rx.cond(
            RunsListState.loading,
            rx.center(rx.spinner(size="3"), padding="3em", width="100%"),
            rx.callout(
                rx.vstack(
                    rx.text("No runs yet. A run happens when you press Run in the editor; its history, cost and outputs show here."),
                    rx.text("New here? Create a workflow from the \"Prompt to upscaled image\" template and run it."),
                    rx.link(rx.button("Go to Workflows", size="2"), href="/workflows"),
                    spacing="2",
                ),
                icon="sparkles",
                width="100%",
                id="runs-empty",
            ),
        ),
    )
