"""Whether the editor's side panel is open, remembered in the browser's localStorage."""

from __future__ import annotations

import reflex as rx

SIDE_PANEL_OPEN = "open"
SIDE_PANEL_CLOSED = "closed"


class PanelLayoutState(rx.State):
    # localStorage key `falflow_side_panel`: "open" or "closed". The palette keeps its own
    # key in the browser (see assets/flow/layout.js).
    side_panel: str = rx.LocalStorage(SIDE_PANEL_OPEN, name="falflow_side_panel", sync=True)

    @rx.event
    def toggle_side_panel(self) -> None:
        self.side_panel = SIDE_PANEL_CLOSED if self.side_panel == SIDE_PANEL_OPEN else SIDE_PANEL_OPEN

    @rx.var
    def side_panel_open(self) -> bool:
        return self.side_panel != SIDE_PANEL_CLOSED
