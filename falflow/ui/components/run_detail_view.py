"""Sections of the run detail page: the header with actions, the node list and the activity feed."""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.ui.components.media import asset_thumbnail
from falflow.ui.components.run_detail_state import RunDetailState
from falflow.ui.components.status import status_badge

ITEM_COLUMNS = ("Item", "Status", "fal request", "Seed", "Attempts", "Progress", "Cost", "Error")


def _meta(label: str, value: rx.Var[Any], element_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium", id=element_id),
        spacing="0",
        min_width="120px",
    )


def _actions() -> rx.Component:
    return rx.hstack(
        rx.cond(
            RunDetailState.following,
            rx.badge(rx.icon("radio", size=12), "Live", color_scheme="green", variant="soft", id="run-live"),
        ),
        rx.cond(
            RunDetailState.can_cancel,
            rx.button(rx.icon("square", size=14), "Cancel", color_scheme="red", variant="soft",
                      on_click=RunDetailState.cancel, id="run-cancel"),
        ),
        rx.tooltip(
            rx.button(rx.icon("pencil", size=14), "Rerun with changes", variant="soft", loading=RunDetailState.acting,
                      on_click=RunDetailState.rerun_with_changes, id="run-rerun-with-changes"),
            content="Save this run's graph as the workflow's newest version and open it in the editor.",
        ),
        rx.tooltip(
            rx.button(rx.icon("rotate-cw", size=14), "Rerun", loading=RunDetailState.acting,
                      on_click=RunDetailState.rerun, id="run-rerun"),
            content="Run the workflow again as it is now; credits are held first.",
        ),
        spacing="2",
        align="center",
    )


def header() -> rx.Component:
    run = RunDetailState.run
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.hstack(
                        rx.heading(run["workflow_name"].to(str), size="5", id="run-workflow-name"),
                        status_badge(run["status"].to(str), id="run-status", size="2"),
                        align="center",
                        spacing="3",
                    ),
                    rx.text(
                        "Run ", run["id"].to(str), " · workflow version ", run["workflow_version"].to(str), " · ",
                        run["mode"].to(str), " mode",
                        rx.cond(run["options"].to(str) != "", rx.text.span(" · ", run["options"].to(str))),
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="1",
                ),
                rx.spacer(),
                _actions(),
                width="100%",
                align="start",
            ),
            rx.hstack(
                _meta("Queued", run["created"].to(str), "run-created"),
                _meta("Started", run["started"].to(str), "run-started"),
                _meta("Finished", run["finished"].to(str), "run-finished"),
                _meta("Duration", run["duration"].to(str), "run-duration"),
                _meta("Estimated", run["estimated"].to(str), "run-estimated"),
                _meta("Charged", run["charged"].to(str), "run-charged"),
                _meta("Progress", RunDetailState.progress, "run-progress"),
                spacing="5",
                wrap="wrap",
            ),
            rx.cond(
                run["note"].to(str) != "",
                rx.callout(run["note"].to(str), icon="info", color_scheme="amber", size="1", width="100%", id="run-note"),
            ),
            rx.cond(
                run["error"].to(str) != "",
                rx.callout(run["error"].to(str), icon="triangle_alert", color_scheme="red", size="1", width="100%",
                           id="run-error"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _item_row(item: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(item["item_index"].to(str)),
        rx.table.cell(status_badge(item["status"].to(str))),
        rx.table.cell(rx.code(item["fal_request_id"].to(str), size="1")),
        rx.table.cell(item["seed"].to(str), class_name="item-seed"),
        rx.table.cell(item["attempts"].to(str)),
        rx.table.cell(rx.cond(item["queue_position"].to(str) != "",
                              rx.text("queue #", item["queue_position"].to(str)), item["progress"].to(str))),
        rx.table.cell(item["cost"].to(str)),
        rx.table.cell(
            rx.cond(
                item["error"].to(str) != "",
                rx.text(item["error"].to(str), " ", rx.code(item["error_code"].to(str), size="1"), size="1",
                        color_scheme="red"),
            ),
            rx.cond(item["may_be_billed"].to(bool), rx.badge("may be billed by fal", color_scheme="amber")),
        ),
    )


def _items_table(items: rx.Var[list[dict[str, Any]]]) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(title) for title in ITEM_COLUMNS])),
            rx.table.body(rx.foreach(items, _item_row)),
            size="1",
            variant="surface",
            width="100%",
        ),
    )


def _output_preview(asset: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.link(
        asset_thumbnail(asset, size="112px"),
        href="/assets?open=" + asset["id"].to(str),
        class_name="run-output",
        title="Open in the gallery",
    )


def _lines(lines: rx.Var[list[str]], title: str) -> rx.Component:
    return rx.cond(
        lines.length() > 0,
        rx.el.details(
            rx.el.summary(rx.text(title, size="1", color_scheme="gray", as_="span")),
            rx.vstack(rx.foreach(lines, lambda line: rx.code(line, size="1")), spacing="1", padding_top="0.3em"),
        ),
    )


def _node_card(node: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(node["label"].to(str), weight="bold", size="3", class_name="run-node-title"),
                rx.text(node["node_id"].to(str), size="1", color_scheme="gray", class_name="run-node-id"),
                rx.code(node["type"].to(str), size="1", color_scheme="gray"),
                rx.spacer(),
                rx.cond(node["batch_count"].to(str) != "", rx.badge("batch of ", node["batch_count"].to(str), variant="outline")),
                rx.cond(node["cost"].to(str) != "", rx.text(node["cost"].to(str), size="2", color_scheme="gray")),
                status_badge(node["status"].to(str), class_name="node-status"),
                align="center",
                width="100%",
                spacing="3",
            ),
            rx.cond(
                node["reused_from_run_id"].to(str) != "",
                rx.text("Outputs reused from run ",
                        rx.link(node["reused_from_run_id"].to(str)[:8], href="/runs/" + node["reused_from_run_id"].to(str)),
                        size="1", color_scheme="gray"),
            ),
            rx.cond(
                node["error"].to(str) != "",
                rx.callout(node["error"].to(str), icon="triangle_alert", color_scheme="red", size="1", width="100%"),
            ),
            _lines(node["inputs"].to(list[str]), "Inputs"),
            _lines(node["params"].to(list[str]), "Parameters"),
            rx.cond(
                node["texts"].to(list[str]).length() > 0,
                rx.vstack(rx.foreach(node["texts"].to(list[str]), lambda line: rx.text(line, size="2")), spacing="1"),
            ),
            rx.cond(
                node["assets"].to(list[dict[str, Any]]).length() > 0,
                rx.hstack(rx.foreach(node["assets"].to(list[dict[str, Any]]), _output_preview), wrap="wrap", spacing="2"),
            ),
            _items_table(node["items"].to(list[dict[str, Any]])),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="run-node",
        data_node_id=node["node_id"].to(str),
        data_status=node["status"].to(str),
    )


def node_list() -> rx.Component:
    return rx.vstack(
        rx.heading("Nodes", size="4"),
        rx.text("The graph as it ran, in document order. Nodes marked \"not run\" were outside this run.",
                size="1", color_scheme="gray"),
        rx.foreach(RunDetailState.nodes, _node_card),
        spacing="3",
        width="100%",
        id="run-nodes",
    )


def activity_feed() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Activity", size="3"),
            rx.cond(
                RunDetailState.feed.length() > 0,
                rx.vstack(rx.foreach(RunDetailState.feed, lambda line: rx.text(line, size="1", font_family="monospace")),
                          spacing="1"),
                rx.text("No events yet.", size="1", color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="run-activity",
    )
