"""Reads and writes behind the Billing page, each in its own transaction.

Blocking functions, called from Reflex handlers through `asyncio.to_thread`. Checkout goes
through `falflow.billing.checkout_flow`, the same units of work the billing API uses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from falflow.billing import checkout_flow, history, ledger, packs
from falflow.billing import purchase_repository as purchases
from falflow.billing.purchase_models import CREDITED_STATUSES, PurchaseStatus
from falflow.billing.stripe_runtime import get_stripe_gateway
from falflow.context import get_context
from falflow.kit.errors import NotFoundError
from falflow.ui.components.ledger_rows import history_row, pack_row


@dataclass
class BillingSnapshot:
    balance: int
    reserved: int
    available: int
    packs: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    history_has_more: bool = False


def read_billing(owner_id: uuid.UUID, *, history_offset: int, history_limit: int) -> BillingSnapshot:
    """Return the balance, the packs for sale and one page of the credit history."""
    database = get_context().database
    with database.read_session() as session:
        summary = ledger.get_credit_summary(session, owner_id)
        rows = packs.list_active_packs(session)
        items = history.list_history(session, owner_id, limit=history_limit + 1, offset=history_offset)
    if not rows:
        with database.write_session() as session:
            packs.ensure_default_packs(session)
            rows = packs.list_active_packs(session)
    return BillingSnapshot(
        balance=summary.balance, reserved=summary.reserved, available=summary.available,
        packs=[pack_row(pack) for pack in rows],
        history=[history_row(item) for item in items[:history_limit]],
        history_has_more=len(items) > history_limit,
    )


def create_checkout(owner_id: uuid.UUID, pack_id: str) -> str:
    """Open a Stripe Checkout Session for the pack and return the URL to send the browser to.

    Raises NotFoundError / InvalidInputError for a bad pack, RateLimitedError after too many
    checkouts, and a 503 error when Stripe cannot be reached or payments are not configured.
    """
    context = get_context()
    opened = checkout_flow.open_checkout(
        context.database, get_stripe_gateway(), public_url=context.settings.public_url, user_id=owner_id,
        pack_id=pack_id,
    )
    return opened.url


@dataclass(frozen=True)
class CheckoutOutcome:
    # One of the PurchaseStatus values.
    status: str
    credited: bool
    credits: int


def read_checkout_outcome(owner_id: uuid.UUID, session_id: str) -> CheckoutOutcome:
    """Return what became of the owner's purchase behind a Checkout Session, or raise 404 if it is not theirs."""
    with get_context().database.read_session() as session:
        purchase = purchases.get_user_purchase_by_session(session, owner_id, session_id)
    if purchase is None:
        raise NotFoundError.for_resource("Checkout session", session_id)
    status = PurchaseStatus(purchase.status)
    return CheckoutOutcome(status=status.value, credited=status in CREDITED_STATUSES, credits=purchase.credits)


def sync_checkout(owner_id: uuid.UUID, session_id: str) -> CheckoutOutcome:
    """Ask Stripe for the session's state and credit it if paid, or raise 404 if it is not the owner's.

    The webhook normally credits the purchase first; this covers a webhook that is late or lost,
    and both paths go through the same idempotent fulfilment.
    """
    checkout_flow.sync_checkout(get_context().database, get_stripe_gateway(), user_id=owner_id, session_id=session_id)
    return read_checkout_outcome(owner_id, session_id)
