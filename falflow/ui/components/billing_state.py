"""State of the Billing page: balance, packs, the credit history, and the checkout round trip.

Stripe sends the browser back to `/billing?checkout=success&session_id=...` once the card was
charged. The signed webhook credits the account, usually before the browser lands, so the page
polls the purchase for a few seconds. If the webhook is late, it requests the session from
Stripe once and credits it the same idempotent way.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import reflex as rx

from falflow.kit.errors import FalflowError
from falflow.ui.browser import go_to
from falflow.ui.components import billing_queries
from falflow.ui.components.feedback import log_rejection, rejection_toast
from falflow.ui.components.formatting import credits_to_usd, format_credits
from falflow.ui.session import SessionState

logger = logging.getLogger("falflow.ui")

HISTORY_PAGE_SIZE = 50
CHECKOUT_POLL_SECONDS = 0.5
# Polls before the page requests the session from Stripe instead of waiting for the webhook.
POLLS_BEFORE_SYNC = 6
MAX_CHECKOUT_POLLS = 30

WAITING = "waiting"
SUCCEEDED = "succeeded"
CANCELLED = "cancelled"
PENDING = "pending"
FAILED = "failed"


class BillingState(rx.State):
    balance: int = 0
    reserved: int = 0
    available: int = 0
    packs: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    history_offset: int = 0
    history_has_more: bool = False
    buying: str = ""
    # "", or one of WAITING, SUCCEEDED, CANCELLED, PENDING, FAILED.
    checkout_state: str = ""
    checkout_message: str = ""
    _checkout_session_id: str = ""

    @rx.var
    def balance_label(self) -> str:
        return format_credits(self.balance)

    @rx.var
    def balance_usd(self) -> str:
        return credits_to_usd(self.balance)

    @rx.var
    def reserved_label(self) -> str:
        return format_credits(self.reserved)

    @rx.var
    def available_label(self) -> str:
        return format_credits(self.available)

    @rx.var
    def available_usd(self) -> str:
        return credits_to_usd(self.available)

    async def _owner(self) -> uuid.UUID | None:
        try:
            return (await self.get_state(SessionState)).user_id()
        except PermissionError:
            return None

    async def _refresh(self, owner: uuid.UUID) -> None:
        snapshot = await asyncio.to_thread(
            billing_queries.read_billing, owner, history_offset=self.history_offset, history_limit=HISTORY_PAGE_SIZE
        )
        self.balance, self.reserved, self.available = snapshot.balance, snapshot.reserved, snapshot.available
        self.packs = snapshot.packs
        self.history = snapshot.history
        self.history_has_more = snapshot.history_has_more

    @rx.event
    async def load(self) -> Any:
        owner = await self._owner()
        if owner is None:
            return None
        self.history_offset = 0
        self.buying = ""
        await self._refresh(owner)
        params = self.router.url.query_parameters
        outcome = params.get("checkout", "")
        if outcome == "cancelled":
            self.checkout_state = CANCELLED
            self.checkout_message = "Checkout cancelled. No payment was taken, and your balance is unchanged."
            return None
        if outcome == "success" and params.get("session_id"):
            self._checkout_session_id = params["session_id"]
            self.checkout_state = WAITING
            self.checkout_message = "Payment made. Waiting for Stripe to confirm it and add your credits…"
            return BillingState.await_credit
        self.checkout_state = ""
        self.checkout_message = ""
        return None

    @rx.event(background=True)
    async def buy(self, pack_id: str) -> Any:
        """Open a Checkout Session and send the browser to Stripe's payment page.

        It runs as a background task, because a slow Stripe response must not hold the state's lock.
        """
        async with self:
            owner = await self._owner()
            if owner is None or self.buying:
                return
            self.buying = pack_id
        try:
            url = await asyncio.to_thread(billing_queries.create_checkout, owner, pack_id)
        except FalflowError as exc:
            async with self:
                self.buying = ""
            yield rejection_toast("ui.checkout.rejected", exc, pack_id=pack_id, user_id=owner)
            return
        logger.info("ui.checkout.started", extra={"pack_id": pack_id, "user_id": str(owner)})
        # A full page load (not a new tab): Stripe's page returns here when the payment ends.
        yield rx.call_script(go_to(url))

    @rx.event(background=True)
    async def await_credit(self) -> Any:
        """Poll the purchase until it is credited, requesting the session from Stripe once if the webhook is late."""
        async with self:
            owner = await self._owner()
            session_id = self._checkout_session_id
        if owner is None or not session_id:
            return
        outcome: billing_queries.CheckoutOutcome | None = None
        error = ""
        for poll in range(MAX_CHECKOUT_POLLS):
            try:
                if poll == POLLS_BEFORE_SYNC:
                    outcome = await asyncio.to_thread(billing_queries.sync_checkout, owner, session_id)
                else:
                    outcome = await asyncio.to_thread(billing_queries.read_checkout_outcome, owner, session_id)
            except FalflowError as exc:
                log_rejection("ui.checkout.check_failed", exc, checkout_session_id=session_id, user_id=owner)
                error = exc.detail
                break
            if outcome.credited or outcome.status in ("failed", "expired"):
                break
            await asyncio.sleep(CHECKOUT_POLL_SECONDS)
        async with self:
            if error:
                self.checkout_state = FAILED
                self.checkout_message = f"The payment could not be checked: {error}"
            elif outcome is not None and outcome.credited:
                self.checkout_state = SUCCEEDED
                self.checkout_message = f"Payment received, credits added: {format_credits(outcome.credits)}."
                await self._refresh(owner)
            elif outcome is not None and outcome.status in ("failed", "expired"):
                self.checkout_state = FAILED
                self.checkout_message = f"The payment {outcome.status}; no credits were added. Try another card or pack."
            else:
                self.checkout_state = PENDING
                self.checkout_message = (
                    "Stripe has not confirmed the payment yet. Your credits are added as soon as it does; "
                    "reload this page in a minute to see them."
                )
        yield SessionState.refresh_balance

    @rx.event
    def dismiss_checkout_message(self) -> None:
        self.checkout_state = ""
        self.checkout_message = ""

    @rx.event
    async def older_history(self) -> None:
        owner = await self._owner()
        if owner is None or not self.history_has_more:
            return
        self.history_offset += HISTORY_PAGE_SIZE
        await self._refresh(owner)

    @rx.event
    async def newer_history(self) -> None:
        owner = await self._owner()
        if owner is None:
            return
        self.history_offset = max(self.history_offset - HISTORY_PAGE_SIZE, 0)
        await self._refresh(owner)
