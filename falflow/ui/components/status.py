"""Status badges for runs, nodes and batch items, coloured the same on every page."""

from __future__ import annotations

import reflex as rx

# Radix colour per run or node status (falflow.runs.states). Any other status is gray.
STATUS_COLOURS: dict[str, str] = {
    "pending": "gray",
    "queued": "gray",
    "submitted": "blue",
    "running": "blue",
    "cancelling": "amber",
    "succeeded": "green",
    "reused": "teal",
    "failed": "red",
    "blocked": "orange",
    "cancelled": "amber",
    "not run": "gray",
}


def status_badge(status: rx.Var[str] | str, class_name: str = "", **props: object) -> rx.Component:
    """Build a soft badge with the status text, and a spinner while the status is in flight."""
    colour = rx.match(status, *[(name, colour) for name, colour in STATUS_COLOURS.items()], "gray")
    in_flight = rx.Var.create(status).to(str)
    return rx.badge(
        rx.cond(
            (in_flight == "running") | (in_flight == "submitted") | (in_flight == "cancelling"),
            rx.spinner(size="1"),
        ),
        status,
        color_scheme=colour,  # type: ignore[arg-type]
        variant="soft",
        class_name=f"status-badge {class_name}".strip(),
        **props,
    )
