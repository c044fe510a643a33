"""Sections of the Assets page: the filter bar, the grid with its empty states, and the lightbox."""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.ui.components.api_urls import API_ORIGIN, asset_file_url
from falflow.ui.components.gallery_grid import gallery_grid
from falflow.ui.components.gallery_state import KIND_OPTIONS, GalleryState
from falflow.ui.components.media import asset_thumbnail, media_player

PAGE_SIZE = 60
GRID_HEIGHT = "calc(100vh - 215px)"


def _select(value: rx.Var[str], options: Any, on_change: Any, element_id: str, width: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=element_id, width=width),
        rx.select.content(rx.foreach(options, lambda option: rx.select.item(option[1], value=option[0]))),
        value=value,
        on_change=on_change,
    )


def filter_bar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _select(GalleryState.kind, KIND_OPTIONS, GalleryState.set_kind, "filter-kind", "130px"),
            _select(GalleryState.filter_workflow, GalleryState.workflow_choices, GalleryState.set_filter_workflow,
                    "filter-workflow", "200px"),
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search prompts",
                value=GalleryState.text,
                on_change=GalleryState.set_text.debounce(350),
                width="220px",
                id="filter-text",
            ),
            rx.hstack(
                rx.text("From", size="2", color_scheme="gray"),
                rx.input(type="date", value=GalleryState.date_from, on_change=GalleryState.set_date_from, id="filter-from"),
                rx.text("to", size="2", color_scheme="gray"),
                rx.input(type="date", value=GalleryState.date_to, on_change=GalleryState.set_date_to, id="filter-to"),
                align="center",
                spacing="2",
            ),
            rx.checkbox("Favourites", checked=GalleryState.favourites_only, on_change=GalleryState.set_favourites_only,
                        id="filter-favourites"),
            rx.cond(
                GalleryState.filters_active,
                rx.button("Clear filters", variant="ghost", size="1", on_click=GalleryState.clear_filters, id="filter-clear"),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            GalleryState.filter_error != "",
            rx.callout(GalleryState.filter_error, icon="triangle_alert", color_scheme="red", size="1", id="filter-error"),
        ),
        width="100%",
        spacing="2",
    )


def _empty_state() -> rx.Component:
    return rx.cond(
        GalleryState.filters_active,
        rx.callout(
            rx.hstack(
                rx.text("No assets match these filters."),
                rx.button("Clear filters", size="1", variant="soft", on_click=GalleryState.clear_filters),
                align="center",
                spacing="3",
            ),
            icon="search-x",
            width="100%",
            id="gallery-no-match",
        ),
        rx.callout(
            rx.vstack(
                rx.text("Your gallery is empty. Every image, video and sound your runs make lands here."),
                rx.text(
                    "New here? On the Workflows page, create a workflow from the \"Prompt to upscaled image\" template, "
                    "open it and press Run; its outputs appear here a few seconds later."
                ),
                rx.link(rx.button("Go to Workflows", size="2"), href="/workflows"),
                spacing="2",
            ),
            icon="sparkles",
            width="100%",
            id="gallery-empty",
        ),
    )


def grid() -> rx.Component:
    return rx.box(
        rx.cond(GalleryState.is_empty, _empty_state()),
        gallery_grid(
            api_base=API_ORIGIN,
            query=GalleryState.query,
            page_size=PAGE_SIZE,
            reload_key=GalleryState.reload_key,
            patches=GalleryState.patches,
            selected_id=GalleryState.selected["id"].to(str),
            grid_height=rx.cond(GalleryState.is_empty, "0px", GRID_HEIGHT),
            on_open=GalleryState.open_asset,
            on_status=GalleryState.grid_status,
        ),
        width="100%",
    )


def _field(label: str, value: rx.Component | rx.Var[Any], element_id: str | None = None) -> rx.Component:
    content = value if isinstance(value, rx.Component) else rx.text(value, size="2")
    return rx.data_list.item(
        rx.data_list.label(label, min_width="90px"),
        rx.data_list.value(content, id=element_id) if element_id else rx.data_list.value(content),
    )


LINEAGE_SCROLL_ID = "lineage-scroll"


def _optional_field(label: str, value: rx.Var[str], content: rx.Component, element_id: str) -> rx.Component:
    """Show a lineage row only when the asset has a value for it (uploads have no node or seed)."""
    return rx.cond(value != "", _field(label, content, element_id))


def _linked_thumbnail(asset: rx.Var[dict[str, Any]], class_name: str) -> rx.Component:
    preview = asset_thumbnail(asset, size="64px")
    return rx.cond(
        asset["deleted"].to(bool),
        rx.tooltip(rx.box(preview, opacity="0.4", class_name=class_name), content="Deleted"),
        rx.box(
            preview,
            cursor="pointer",
            class_name=class_name,
            # The panel keeps its scroll position otherwise, so the new asset would open mid-way.
            on_click=[
                GalleryState.open_asset(asset["id"].to(str)),
                rx.call_script(f"document.getElementById('{LINEAGE_SCROLL_ID}')?.scrollTo(0, 0)"),
            ],
        ),
    )


def _thumbnail_row(title: str, assets: rx.Var[list[dict[str, Any]]], class_name: str, element_id: str) -> rx.Component:
    return rx.cond(
        assets.length() > 0,
        rx.vstack(
            rx.text(title, size="2", weight="medium"),
            rx.hstack(rx.foreach(assets, lambda asset: _linked_thumbnail(asset, class_name)), wrap="wrap", spacing="2"),
            spacing="1",
            id=element_id,
        ),
    )


def _lineage_panel() -> rx.Component:
    selected = GalleryState.selected
    return rx.vstack(
        rx.data_list.root(
            _field("Run", rx.cond(
                selected["run_id"].to(str) != "",
                rx.link(selected["run_id"].to(str)[:8], href="/runs/" + selected["run_id"].to(str), id="lineage-run"),
                rx.text("Uploaded", size="2"),
            )),
            _optional_field("Node", selected["node_id"].to(str), rx.text(selected["node_id"].to(str), size="2"),
                            "lineage-node"),
            _optional_field("Endpoint", selected["endpoint_id"].to(str),
                            rx.text(selected["endpoint_title"].to(str), " ", rx.code(selected["endpoint_id"].to(str), size="1"),
                                    size="2"),
                            "lineage-endpoint"),
            _optional_field("Seed", selected["seed"].to(str), rx.text(selected["seed"].to(str), size="2"), "lineage-seed"),
            _optional_field("File name", selected["original_filename"].to(str),
                            rx.text(selected["original_filename"].to(str), size="2"), "lineage-filename"),
            _field("Cost", selected["cost"].to(str), "lineage-cost"),
            _field("Created", selected["created"].to(str)),
            _field("File", rx.text(selected["mime_type"].to(str), " · ", selected["size"].to(str), " ",
                                   selected["dimensions"].to(str), " ", selected["duration"].to(str), size="2")),
            size="1",
            spacing="2",
        ),
        rx.cond(
            selected["prompt"].to(str) != "",
            rx.vstack(
                rx.text(rx.cond(selected["prompt_inherited"].to(bool), "Prompt (from the input it was made from)", "Prompt"),
                        size="2", weight="medium"),
                rx.text(selected["prompt"].to(str), size="2", color_scheme="gray", id="lineage-prompt"),
                spacing="1",
            ),
        ),
        rx.cond(
            selected["params"].to(list[str]).length() > 0,
            rx.el.details(
                rx.el.summary(rx.text("Parameters", size="2", weight="medium", as_="span")),
                rx.vstack(rx.foreach(selected["params"].to(list[str]), lambda line: rx.code(line, size="1")),
                          spacing="1", padding_top="0.4em"),
            ),
        ),
        _thumbnail_row("Made from", selected["parents"].to(list[dict[str, Any]]), "lineage-parent", "lineage-parents"),
        rx.cond(
            selected["older_ancestors"].to(int) > 0,
            rx.text(selected["older_ancestors"].to(int), " earlier ancestors; open a parent to follow them.",
                    size="1", color_scheme="gray"),
        ),
        rx.cond(
            selected["missing_parents"].to(int) > 0,
            rx.text(selected["missing_parents"].to(int), " input(s) no longer exist.", size="1", color_scheme="gray"),
        ),
        _thumbnail_row("Used to make", selected["children"].to(list[dict[str, Any]]), "lineage-child", "lineage-children"),
        spacing="3",
        width="100%",
        id="lineage-panel",
    )


def _actions() -> rx.Component:
    selected = GalleryState.selected
    favourite = selected["favourite"].to(bool)
    return rx.hstack(
        rx.button(
            rx.icon("star", size=16, fill=rx.cond(favourite, "currentColor", "none")),
            rx.cond(favourite, "Favourite", "Add to favourites"),
            variant=rx.cond(favourite, "solid", "soft"),
            color_scheme="amber",
            on_click=GalleryState.toggle_favourite,
            id="lightbox-favourite",
            data_favourite=rx.cond(favourite, "true", "false"),
        ),
        rx.el.a(
            rx.button(rx.icon("download", size=16), "Download", variant="soft"),
            href=asset_file_url(selected["id"].to(str)),
            download=True,
            # `rx.el.a` is React Router's Link, which would route /api/... inside the app.
            reload_document=True,
            id="lightbox-download",
        ),
        rx.cond(
            selected["run_id"].to(str) != "",
            rx.link(rx.button(rx.icon("play", size=16), "Open run", variant="soft"),
                    href="/runs/" + selected["run_id"].to(str), id="lightbox-open-run"),
        ),
        rx.cond(
            (selected["seed"].to(str) != "") & (selected["workflow_id"].to(str) != "") & (selected["node_id"].to(str) != ""),
            rx.tooltip(
                rx.button(rx.icon("dices", size=16), "Reuse seed", variant="soft", on_click=GalleryState.reuse_selected_seed,
                          id="lightbox-reuse-seed"),
                content="Set this seed on the node that made the asset (a new workflow version) and open the editor.",
            ),
        ),
        rx.spacer(),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(rx.icon("trash-2", size=16), "Delete", color_scheme="red", variant="soft", id="lightbox-delete"),
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Delete this asset?"),
                rx.alert_dialog.description(
                    "It disappears from the gallery. Runs that made it keep their history, and its file is removed later."
                ),
                rx.hstack(
                    rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.alert_dialog.action(
                        rx.button("Delete", color_scheme="red", on_click=GalleryState.delete_selected,
                                  id="lightbox-delete-confirm"),
                    ),
                    justify="end",
                    spacing="3",
                ),
            ),
        ),
        width="100%",
        spacing="2",
        wrap="wrap",
    )


def lightbox() -> rx.Component:
    selected = GalleryState.selected
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.dialog.title(
                    rx.cond(
                        selected["endpoint_id"].to(str) != "",
                        selected["endpoint_title"].to(str),
                        rx.cond(selected["original_filename"].to(str) != "", selected["original_filename"].to(str),
                                selected["kind"].to(str)),
                    ),
                    margin="0",
                    size="4",
                    id="lightbox-title",
                ),
                rx.cond(selected["sandbox"].to(bool), rx.badge("sandbox", color_scheme="amber", id="lightbox-sandbox")),
                rx.cond(selected["reused"].to(bool), rx.badge("reused from cache", color_scheme="teal")),
                rx.spacer(),
                rx.dialog.close(rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", id="lightbox-close")),
                align="center",
                width="100%",
            ),
            rx.grid(
                rx.center(media_player(selected), background=rx.color("gray", 2), border_radius="8px", min_height="300px"),
                rx.box(_lineage_panel(), max_height="62vh", overflow_y="auto", padding_right="0.5em",
                       id=LINEAGE_SCROLL_ID),
                columns="minmax(0, 3fr) minmax(0, 2fr)",
                spacing="4",
                width="100%",
                padding_y="1em",
            ),
            _actions(),
            max_width="1150px",
            width="92vw",
            id="lightbox",
        ),
        open=GalleryState.lightbox_open,
        on_open_change=GalleryState.set_lightbox_open,
    )
