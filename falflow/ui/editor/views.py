"""The editor page's sections: the header bar, the side panel, and the conflict and credit dialogs."""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.ui.editor.canvas import API_ORIGIN, fal_flow_canvas
from falflow.ui.editor.catalog_view import connection_table, palette_catalog
from falflow.ui.editor.output_dialog import OutputDialogState, output_thumbnail
from falflow.ui.editor.panel_layout import PanelLayoutState
from falflow.ui.editor.run_state import EditorRunState
from falflow.ui.editor.state import EditorState
from falflow.ui.session import SessionState

def _name_editor() -> rx.Component:
    return rx.cond(
        EditorState.renaming,
        rx.input(
            value=EditorState.rename_value,
            on_change=EditorState.set_rename_value,
            on_blur=EditorState.finish_rename,
            on_key_down=EditorState.rename_key,
            auto_focus=True,
            size="2",
            width="320px",
            id="workflow-name-input",
        ),
        rx.tooltip(
            rx.heading(EditorState.name, size="5", id="workflow-name", cursor="text", on_click=EditorState.start_rename),
            content="Click to rename",
        ),
    )


def _save_indicator() -> rx.Component:
    return rx.badge(
        rx.cond(EditorState.save_state == "saving", rx.spinner(size="1"), rx.icon("check", size=12)),
        EditorState.save_label,
        color_scheme=rx.match(EditorState.save_state, ("saved", "gray"), ("saving", "blue"), ("conflict", "red"), ("error", "red"), "gray"),
        variant="soft",
        id="save-indicator",
    )


def _export_menu() -> rx.Component:
    base = API_ORIGIN + "/api/workflows/" + EditorState.loaded_workflow_id + "/export?format="
    return rx.menu.root(
        rx.menu.trigger(rx.button(rx.icon("download", size=14), "Export", variant="soft", color_scheme="gray", size="2", id="export-button")),
        rx.menu.content(
            rx.menu.item(
                rx.el.a("falflow JSON (lossless)", href=base + "falflow", download=EditorState.export_slug + ".falflow.json",
                        id="export-falflow", style={"color": "inherit", "textDecoration": "none"}),
            ),
            rx.menu.item(
                rx.el.a("fal workflow JSON", href=base + "fal", download=EditorState.export_slug + ".fal.json",
                        id="export-fal", style={"color": "inherit", "textDecoration": "none"}),
            ),
        ),
    )


def _grouped(number: rx.Var[int]) -> rx.Var[str]:
    """Format an integer Var with thousands separators in the browser (`3,200`)."""
    return rx.Var(
        _js_expr=f"({number}).toLocaleString('en-US')",
        _var_data=number._get_all_var_data(),
    ).to(str)


def _credit_shortfall() -> rx.Component:
    """Warn before Run when the estimate exceeds the available credits; the server still decides (402)."""
    return rx.cond(
        SessionState.signed_in & (EditorState.save_state != "loading") & (EditorState.estimate_credits > SessionState.available),
        rx.text(
            "Needs ", _grouped(EditorState.estimate_credits), " credits; you have ", _grouped(SessionState.available),
            " — ",
            rx.link("Buy credits", href="/billing", id="shortfall-buy-link"),
            size="1",
            color_scheme="amber",
            id="credit-shortfall",
        ),
    )


def _run_controls() -> rx.Component:
    blocked = EditorState.run_block_reason != ""
    run_button = rx.button(
        rx.icon("play", size=14),
        "Run · ",
        EditorState.estimate_label,
        on_click=EditorRunState.start({}),
        disabled=blocked,
        loading=EditorRunState.starting,
        size="2",
        id="run-button",
    )
    return rx.hstack(
        rx.cond(
            EditorRunState.run_active,
            rx.button(rx.icon("square", size=14), "Cancel run", on_click=EditorRunState.cancel, color_scheme="red",
                      variant="soft", size="2", id="cancel-button"),
            rx.cond(
                blocked,
                rx.tooltip(rx.box(run_button), content=EditorState.run_block_reason),
                run_button,
            ),
        ),
        rx.menu.root(
            rx.menu.trigger(rx.icon_button(rx.icon("chevron-down", size=14), variant="soft", size="2", disabled=blocked,
                                           title="More ways to run", id="run-options")),
            rx.menu.content(
                rx.menu.item("Run, re-rolling cached nodes", on_click=EditorRunState.start({"force": True}), id="run-force"),
            ),
        ),
        rx.cond(
            blocked,
            rx.text(EditorState.run_block_reason, size="1", color_scheme="red", id="run-block-reason"),
            _credit_shortfall(),
        ),
        spacing="2",
        align="center",
    )


def header_bar() -> rx.Component:
    return rx.hstack(
        rx.link(rx.icon("arrow-left", size=16), href="/workflows", color_scheme="gray", title="All workflows"),
        _name_editor(),
        _save_indicator(),
        rx.spacer(),
        _run_controls(),
        _export_menu(),
        width="100%",
        align="center",
        spacing="3",
    )


def _problem_row(problem: dict[str, Any]) -> rx.Component:
    return rx.box(
        rx.text(problem["node_title"], weight="bold", size="1"),
        rx.text(problem["message"], size="1", color_scheme="red"),
        on_click=EditorState.focus_node(problem["node_id"].to(str)),
        class_name="problem-item",
        padding="6px 8px",
        border_radius="6px",
        cursor="pointer",
        _hover={"background": rx.color("gray", 4)},
        width="100%",
    )


def _problems_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Problems", weight="bold", size="2"),
            rx.badge(EditorState.problem_count, color_scheme=rx.cond(EditorState.problem_count > 0, "red", "green"), id="problem-count"),
            align="center",
        ),
        rx.cond(
            EditorState.problem_count > 0,
            rx.vstack(rx.foreach(EditorState.problems, _problem_row), spacing="1", width="100%", id="problems-list"),
            rx.text(
                rx.cond(EditorState.node_count > 0, "No problems: the workflow can run.", "Add nodes from the palette to begin."),
                size="1", color_scheme="gray",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _run_section() -> rx.Component:
    return rx.cond(
        EditorRunState.run_id != "",
        rx.vstack(
            rx.hstack(
                rx.text("Run", weight="bold", size="2"),
                rx.badge(EditorRunState.run_status, id="run-status",
                         color_scheme=rx.match(EditorRunState.run_status, ("succeeded", "green"), ("failed", "red"),
                                               ("cancelled", "gray"), ("cancelling", "amber"), "blue")),
                align="center",
            ),
            rx.text("Charged: ", EditorRunState.run_charged_label, size="1", id="run-charged"),
            rx.cond(EditorRunState.run_error != "", rx.text(EditorRunState.run_error, size="1", color_scheme="red")),
            rx.cond(
                EditorRunState.run_outputs.length() > 0,
                rx.vstack(
                    rx.text("Outputs", size="1", weight="medium", color_scheme="gray"),
                    rx.flex(rx.foreach(EditorRunState.run_outputs, output_thumbnail), wrap="wrap", gap="6px"),
                    spacing="1",
                    width="100%",
                    id="run-outputs",
                ),
            ),
            rx.link("Open in runs", href="/runs/" + EditorRunState.run_id, size="1"),
            spacing="1",
            width="100%",
            id="run-section",
        ),
        rx.text("No run yet. Press Run (or Ctrl/⌘+Enter) to run the whole workflow, or right-click a node to run part of it.",
                size="1", color_scheme="gray"),
    )


def _side_panel_toggle() -> rx.Component:
    return rx.icon_button(
        rx.cond(PanelLayoutState.side_panel_open, rx.icon("panel-right-close", size=14), rx.icon("panel-right-open", size=14)),
        on_click=PanelLayoutState.toggle_side_panel,
        variant="ghost",
        color_scheme="gray",
        size="1",
        title=rx.cond(PanelLayoutState.side_panel_open, "Hide the side panel", "Show the run and problems panel"),
        id="side-panel-toggle",
    )


def side_panel() -> rx.Component:
    frame = {
        "height": "100%",
        "border": f"1px solid {rx.color('gray', 5)}",
        "border_radius": "8px",
    }
    return rx.cond(
        PanelLayoutState.side_panel_open,
        rx.vstack(
            rx.hstack(rx.spacer(), _side_panel_toggle(), width="100%", margin_bottom="-10px"),
            _run_section(),
            rx.divider(),
            _problems_section(),
            width="250px",
            min_width="250px",
            overflow_y="auto",
            padding="10px",
            spacing="3",
            id="side-panel",
            **frame,
        ),
        rx.vstack(
            _side_panel_toggle(),
            rx.badge(EditorState.problem_count, color_scheme=rx.cond(EditorState.problem_count > 0, "red", "green"),
                     title="Problems"),
            width="34px",
            min_width="34px",
            padding="8px 0",
            align="center",
            spacing="3",
            id="side-panel-rail",
            **frame,
        ),
    )


def canvas() -> rx.Component:
    return fal_flow_canvas(
        graph=EditorState.graph,
        graph_version=EditorState.graph_version,
        workflow_id=EditorState.loaded_workflow_id,
        catalog=palette_catalog(),
        compatibility=connection_table(),
        node_status=EditorRunState.node_status,
        node_checks=EditorState.node_checks,
        api_base=API_ORIGIN,
        focus_request=EditorState.focus_request,
        read_only=False,
        on_graph_change=EditorState.apply_graph_change,
        on_run=EditorRunState.start,
        on_preview=OutputDialogState.show,
    )


def read_only_canvas(graph: Any, graph_version: Any, node_status: Any, *, node_checks: Any = None) -> rx.Component:
    """Return a view-only canvas of a stored document, such as a run's, with its node statuses.

    Pass Vars (or plain values): the canvas shows `graph` whenever `graph_version` changes.
    There is no palette, dragging, connecting or param editing.
    """
    return fal_flow_canvas(
        graph=graph,
        graph_version=graph_version,
        workflow_id="",
        catalog=palette_catalog(),
        compatibility=connection_table(),
        node_status=node_status,
        node_checks=node_checks if node_checks is not None else {},
        api_base=API_ORIGIN,
        focus_request={},
        read_only=True,
    )


def conflict_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Saved elsewhere first"),
            rx.alert_dialog.description(
                rx.text(
                    "This workflow was changed in another tab or by the API (now version ",
                    EditorState.conflict_version,
                    "). Reload to see the latest version; your unsaved change is kept in the editor until you choose.",
                    id="conflict-message",
                ),
            ),
            rx.hstack(
                rx.alert_dialog.action(rx.button("Reload", on_click=EditorState.reload_latest, id="conflict-reload")),
                rx.alert_dialog.action(
                    rx.button("Overwrite as new version", color_scheme="red", variant="soft",
                              on_click=EditorState.overwrite, id="conflict-overwrite"),
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=EditorState.save_state == "conflict",
    )


def payment_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Not enough credits"),
            rx.dialog.description(
                rx.text(EditorRunState.payment_message, id="payment-message"),
            ),
            rx.text(EditorRunState.payment_advice, size="1", color_scheme="gray", margin_top="0.5em", id="payment-advice"),
            rx.hstack(
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", on_click=EditorRunState.close_payment)),
                rx.link(rx.button("Buy credits"), href="/billing", id="buy-credits-link"),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=EditorRunState.payment_open,
        on_open_change=EditorRunState.set_payment_open,
    )


def missing_notice() -> rx.Component:
    return rx.callout(
        rx.text(EditorState.load_error, " ", rx.link("Back to your workflows", href="/workflows")),
        icon="triangle-alert",
        color_scheme="red",
        id="editor-missing",
    )
