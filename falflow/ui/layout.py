"""The app shell: navigation, the credit balance and the mode, always visible."""

from __future__ import annotations

import reflex as rx

from falflow.ui.session import SessionState

NAV_ITEMS = [
    ("Workflows", "/workflows", "workflow"),
    ("Runs", "/runs", "play"),
    ("Assets", "/assets", "images"),
    ("Billing", "/billing", "credit-card"),
]


def _nav_link(label: str, href: str, icon: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center", spacing="2"),
        href=href,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
    )


def mode_badge() -> rx.Component:
    return rx.cond(
        SessionState.mode == "sandbox",
        rx.tooltip(
            rx.badge("Sandbox", color_scheme="amber", variant="soft", id="mode-badge"),
            content="No fal.ai key is set: runs use the bundled offline stand-in, and outputs are labelled SANDBOX.",
        ),
        rx.badge("Live", color_scheme="green", variant="soft", id="mode-badge"),
    )


def navbar() -> rx.Component:
    return rx.hstack(
        rx.hstack(
            rx.link(rx.hstack(rx.icon("workflow", color=rx.color("violet", 10)), rx.heading("falflow", size="5"), align="center"),
                    href="/workflows", underline="none", color_scheme="gray", high_contrast=True),
            *[_nav_link(*item) for item in NAV_ITEMS],
            spacing="5",
            align="center",
        ),
        rx.spacer(),
        rx.hstack(
            mode_badge(),
            rx.link(
                rx.badge(rx.icon("coins", size=14), rx.text(SessionState.balance_label, id="balance"), color_scheme="violet", size="2"),
                href="/billing", underline="none",
            ),
            rx.menu.root(
                rx.menu.trigger(rx.button(rx.icon("user", size=16), SessionState.email, variant="ghost", size="2")),
                rx.menu.content(rx.menu.item("Log out", on_click=SessionState.log_out, id="logout")),
            ),
            spacing="4",
            align="center",
        ),
        padding_x="1.25em",
        padding_y="0.6em",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
        align="center",
    )


def app_shell(*children: rx.Component) -> rx.Component:
    """Wrap a signed-in page; nothing renders until the session is confirmed."""
    return rx.cond(
        SessionState.signed_in,
        rx.vstack(navbar(), rx.box(*children, width="100%", padding="1.25em"), spacing="0", width="100%", min_height="100vh"),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
