"""The editor's output dialog: one run output at full size, opened from a node or the Run panel.

The dialog holds only the asset id and kind. The browser loads the media from the asset
routes, and the session cookie authenticates them.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.ui.components.media import asset_thumbnail, media_player

MEDIA_KINDS = frozenset({"image", "video", "audio", "text", "json"})


def preview_asset(preview: dict[str, Any]) -> dict[str, Any]:
    """Convert a node preview (`{"asset_id", "kind"}`) to the asset dict `media.media_player` takes."""
    kind = str(preview.get("kind", ""))
    return {
        "id": str(preview.get("asset_id", "")),
        "kind": kind if kind in MEDIA_KINDS else "file",
        "prompt": "",
        "has_thumbnail": kind == "image",
    }


class OutputDialogState(rx.State):
    """The run output one tab shows in the dialog."""

    asset: dict[str, Any] = {}
    open: bool = False

    @rx.event
    def show(self, preview: dict[str, Any]) -> None:
        asset = preview_asset(preview)
        if not asset["id"]:
            return
        self.asset = asset
        self.open = True

    @rx.event
    def set_open(self, is_open: bool) -> None:
        self.open = is_open

    @rx.var
    def gallery_href(self) -> str:
        return f"/assets?open={self.asset.get('id', '')}"


def output_thumbnail(preview: rx.Var[dict[str, Any]]) -> rx.Component:
    """Build a clickable thumbnail of one run output (`{"asset_id", "kind", "node_id"}`)."""
    asset = {
        "id": preview["asset_id"],
        "kind": preview["kind"],
        "has_thumbnail": preview["kind"].to(str) == "image",
    }
    return rx.tooltip(
        rx.box(
            asset_thumbnail(rx.Var.create(asset), size="64px"),
            on_click=OutputDialogState.show(preview),
            cursor="zoom-in",
            class_name="run-output",
            custom_attrs={"data-asset-id": preview["asset_id"].to(str)},
        ),
        content=preview["node_id"].to(str),
    )


def output_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Run output"),
            rx.box(
                rx.cond(OutputDialogState.open, media_player(OutputDialogState.asset)),
                width="100%",
                id="output-dialog-media",
            ),
            rx.hstack(
                rx.link("Open in gallery", href=OutputDialogState.gallery_href, id="output-dialog-gallery"),
                rx.spacer(),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                align="center",
                width="100%",
                margin_top="1em",
            ),
            max_width="min(1100px, 92vw)",
            id="output-dialog",
        ),
        open=OutputDialogState.open,
        on_open_change=OutputDialogState.set_open,
    )
