"""The node editor at `/workflows/[workflow_id]`."""

from __future__ import annotations

import reflex as rx

from falflow.ui.editor.run_state import EditorRunState
from falflow.ui.editor.state import EditorState
from falflow.ui.editor.output_dialog import output_dialog
from falflow.ui.editor.views import canvas, conflict_dialog, header_bar, missing_notice, payment_dialog, side_panel
from falflow.ui.layout import app_shell
from falflow.ui.session import SessionState

# The nav bar, the page padding and the header bar take this much of the window height.
_CHROME_HEIGHT = "150px"


def editor_page() -> rx.Component:
    return app_shell(
        rx.cond(
            EditorState.save_state == "missing",
            missing_notice(),
            rx.vstack(
                header_bar(),
                rx.hstack(
                    rx.box(canvas(), flex="1", height="100%", min_width="0"),
                    side_panel(),
                    width="100%",
                    height=f"calc(100vh - {_CHROME_HEIGHT})",
                    spacing="3",
                ),
                conflict_dialog(),
                payment_dialog(),
                output_dialog(),
                width="100%",
                spacing="3",
            ),
        )
    )


def register(app: rx.App) -> None:
    app.add_page(
        editor_page,
        route="/workflows/[workflow_id]",
        title="Editor · falflow",
        on_load=[SessionState.require_login, EditorState.load, EditorRunState.attach],
    )
