"""The Billing page (`/billing`): balance, credit packs through Stripe Checkout, and the credit history."""

from __future__ import annotations

import reflex as rx

from falflow.ui.components.billing_state import BillingState
from falflow.ui.components.billing_view import balance_cards, checkout_banner, history_section, packs_section
from falflow.ui.layout import app_shell
from falflow.ui.session import SessionState


def billing_page() -> rx.Component:
    return app_shell(
        rx.vstack(
            rx.heading("Billing", size="6"),
            checkout_banner(),
            balance_cards(),
            packs_section(),
            history_section(),
            spacing="5",
            width="100%",
            max_width="1200px",
        )
    )


def register(app: rx.App) -> None:
    app.add_page(billing_page, route="/billing", title="Billing · falflow",
                 on_load=[SessionState.require_login, BillingState.load])
