"""Sections of the Billing page: the checkout banner, balance cards, packs and the credit history."""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.ui.components.api_urls import api_url
from falflow.ui.components.billing_state import CANCELLED, FAILED, PENDING, SUCCEEDED, WAITING, BillingState

HISTORY_COLUMNS = ("When", "Kind", "Credits", "Balance after", "Run", "Node", "Model", "Memo")


def checkout_banner() -> rx.Component:
    message = BillingState.checkout_message
    return rx.match(
        BillingState.checkout_state,
        (WAITING, rx.callout(rx.hstack(rx.spinner(size="1"), rx.text(message), align="center"), color_scheme="blue",
                             width="100%", id="checkout-waiting")),
        (SUCCEEDED, rx.callout(message, icon="circle-check", color_scheme="green", width="100%", id="checkout-success")),
        (CANCELLED, rx.callout(message, icon="circle-x", color_scheme="gray", width="100%", id="checkout-cancelled")),
        (PENDING, rx.callout(message, icon="clock", color_scheme="amber", width="100%", id="checkout-pending")),
        (FAILED, rx.callout(message, icon="triangle_alert", color_scheme="red", width="100%", id="checkout-failed")),
        rx.fragment(),
    )


def _stat(title: str, value: rx.Var[str], detail: rx.Var[str] | str, element_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(title, size="2", color_scheme="gray"),
            rx.heading(value, size="6", id=element_id),
            rx.text(detail, size="1", color_scheme="gray"),
            spacing="1",
        ),
        flex="1",
        min_width="220px",
    )


def balance_cards() -> rx.Component:
    return rx.hstack(
        _stat("Balance", BillingState.balance_label, BillingState.balance_usd, "billing-balance"),
        _stat("Reserved", BillingState.reserved_label, "Held for runs in progress", "billing-reserved"),
        _stat("Available", BillingState.available_label, BillingState.available_usd, "billing-available"),
        spacing="4",
        width="100%",
        wrap="wrap",
    )


def _pack_card(pack: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(pack["name"].to(str), weight="medium"),
            rx.heading(pack["price"].to(str), size="6"),
            rx.text(pack["unit_price"].to(str), size="2", color_scheme="gray"),
            rx.button(
                rx.icon("shopping-cart", size=14), "Buy",
                on_click=BillingState.buy(pack["id"].to(str)),
                loading=BillingState.buying == pack["id"].to(str),
                disabled=BillingState.buying != "",
                width="100%",
                id="buy-" + pack["id"].to(str),
                class_name="buy-pack",
            ),
            spacing="2",
            width="100%",
        ),
        flex="1",
        min_width="200px",
        class_name="pack-card",
    )


def packs_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Buy credits", size="4"),
        rx.text("1 credit = US$0.001. Payment goes through Stripe Checkout; credits arrive as soon as Stripe confirms it.",
                size="2", color_scheme="gray"),
        rx.hstack(rx.foreach(BillingState.packs, _pack_card), spacing="4", width="100%", wrap="wrap"),
        spacing="3",
        width="100%",
    )


def _history_row(item: rx.Var[dict[str, Any]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(item["when"].to(str), size="1")),
        rx.table.cell(rx.badge(item["kind_label"].to(str), color_scheme=item["colour"].to(str), variant="soft")),  # type: ignore[arg-type]
        rx.table.cell(rx.cond(
            item["informational"].to(bool),
            rx.text(item["note"].to(str), size="1", color_scheme="gray", class_name="ledger-note"),
            rx.text(item["amount"].to(str), weight="medium",
                    color_scheme=rx.cond(item["positive"].to(bool), "green", "gray")),  # type: ignore[arg-type]
        )),
        rx.table.cell(item["balance_after"].to(str)),
        rx.table.cell(rx.cond(
            item["run_id"].to(str) != "",
            rx.link(item["run_id"].to(str)[:8], href="/runs/" + item["run_id"].to(str)),
        )),
        rx.table.cell(item["node_id"].to(str)),
        rx.table.cell(rx.cond(item["model"].to(str) != "", rx.code(item["model"].to(str), size="1"))),
        rx.table.cell(rx.text(item["memo"].to(str), size="1", color_scheme="gray")),
        class_name=rx.cond(item["informational"].to(bool), "ledger-row ledger-row-info", "ledger-row"),
        opacity=rx.cond(item["informational"].to(bool), "0.7", "1"),
        data_kind=item["kind"].to(str),
    )


def history_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Credit history", size="4"),
            rx.spacer(),
            rx.el.a(
                rx.button(rx.icon("download", size=14), "Download CSV", variant="soft", size="2"),
                href=api_url("/api/billing/ledger.csv"),
                download="falflow-credits.csv",
                # `rx.el.a` is React Router's Link, which would route /api/... inside the app.
                reload_document=True,
                id="ledger-csv",
            ),
            width="100%",
            align="center",
        ),
        rx.text("A hold sets credits aside while a run works; it is not a charge. The run's charges follow, "
                "then a release returns what it did not use. Only charges, purchases, grants and clawbacks change the balance.",
                size="1", color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(title) for title in HISTORY_COLUMNS])),
            rx.table.body(rx.foreach(BillingState.history, _history_row)),
            width="100%",
            size="1",
            id="ledger-table",
        ),
        rx.hstack(
            rx.spacer(),
            rx.button("Newer", variant="soft", size="1", disabled=BillingState.history_offset == 0,
                      on_click=BillingState.newer_history),
            rx.button("Older", variant="soft", size="1", disabled=~BillingState.history_has_more,
                      on_click=BillingState.older_history),
            width="100%",
        ),
        spacing="3",
        width="100%",
    )
