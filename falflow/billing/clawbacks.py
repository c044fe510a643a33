"""Taking credits back after refunds and disputes, and giving them back after a won dispute.

Credits follow money proportionally and round toward the user: refunding `r` of an
`amount_minor` purchase takes back `floor(credits * r / amount_minor)` in total. Amounts are
computed from Stripe's cumulative figures, so two partial refunds that add up to the whole
charge take back exactly the pack's credits. Clawbacks may push the balance below zero; the
hold check in `falflow.billing.ledger.reserve_credits` then blocks new runs until a top-up.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from falflow.billing import ledger
from falflow.billing import purchase_repository as repository
from falflow.billing.fulfillment import settled_status
from falflow.billing.ledger_reads import find_entry_by_key
from falflow.billing.models import LedgerKind
from falflow.billing.purchase_models import Purchase
from falflow.integrations.stripe.types import DisputeState

logger = logging.getLogger("falflow.billing")

_CLOSED_DISPUTE_STATUSES = frozenset({"won", "lost"})


def credits_for_minor(purchase: Purchase, amount_minor: int) -> int:
    """Credits bought with `amount_minor` of this purchase's price, rounded down."""
    return purchase.credits * amount_minor // purchase.amount_minor


def apply_refund_total(session: Session, purchase: Purchase, *, charge_id: str, amount_refunded_minor: int) -> int:
    """Bring the clawback up to Stripe's cumulative refunded amount; return the credits taken now.

    `purchase` must be credited and locked by the caller. A figure at or below the one already
    applied (a duplicate, or an older read arriving late) changes nothing.
    """
    previous = purchase.amount_refunded_minor
    if amount_refunded_minor <= previous:
        return 0
    cumulative = min(amount_refunded_minor, purchase.amount_minor)
    clawed_back = credits_for_minor(purchase, cumulative) - credits_for_minor(purchase, previous)
    if clawed_back > 0:
        ledger.post_entry(
            session,
            user_id=purchase.user_id,
            amount=-clawed_back,
            kind=LedgerKind.REFUND_CLAWBACK,
            idempotency_key=f"refund:{charge_id}:{cumulative}",
            memo=f"Refund of {cumulative - previous} (minor units) on pack '{purchase.pack_id}'",
            purchase_id=purchase.id,
            external_ref=charge_id,
        )
    purchase.amount_refunded_minor = cumulative
    purchase.stripe_charge_id = purchase.stripe_charge_id or charge_id
    purchase.status = settled_status(purchase).value
    repository.save(session, purchase)
    logger.info("billing.refund.applied",
                extra={"purchase_id": str(purchase.id), "charge_id": charge_id, "refunded_minor": cumulative,
                       "credits_clawed_back": clawed_back})
    return clawed_back


def apply_dispute(session: Session, purchase: Purchase, dispute: DisputeState) -> int:
    """Converge a credited, locked purchase on a dispute's state; return the net credits moved now.

    Any chargeback takes the disputed credits back (`dispute:<id>:clawback`); a won one gives
    them back (`dispute:<id>:reversal`). Both keys are unique, so replays move nothing.
    Inquiries (`warning_*`) move no money and are skipped by the caller.
    """
    moved = 0
    clawback_key = f"dispute:{dispute.id}:clawback"
    clawback = find_entry_by_key(session, clawback_key)
    if clawback is None:
        already_refunded = credits_for_minor(purchase, purchase.amount_refunded_minor)
        disputed_credits = min(credits_for_minor(purchase, dispute.amount), purchase.credits - already_refunded)
        clawed_back = max(disputed_credits, 0)
        if clawed_back:
            ledger.post_entry(
                session, user_id=purchase.user_id, amount=-clawed_back, kind=LedgerKind.DISPUTE_CLAWBACK,
                idempotency_key=clawback_key, memo=f"Chargeback on pack '{purchase.pack_id}'",
                purchase_id=purchase.id, external_ref=dispute.id,
            )
            moved -= clawed_back
    else:
        clawed_back = -clawback.amount
    if dispute.status == "won" and clawed_back > 0:
        reversal = ledger.post_entry(
            session, user_id=purchase.user_id, amount=clawed_back, kind=LedgerKind.DISPUTE_REVERSAL,
            idempotency_key=f"dispute:{dispute.id}:reversal", memo=f"Chargeback won on pack '{purchase.pack_id}'",
            purchase_id=purchase.id, external_ref=dispute.id,
        )
        if reversal is not None:
            moved += clawed_back
    purchase.stripe_dispute_id = dispute.id
    # A closed outcome sticks: a read taken before the close and applied after it must not reopen it.
    if purchase.dispute_status not in _CLOSED_DISPUTE_STATUSES:
        purchase.dispute_status = dispute.status
    purchase.status = settled_status(purchase).value
    repository.save(session, purchase)
    logger.info("billing.dispute.applied",
                extra={"purchase_id": str(purchase.id), "dispute_id": dispute.id, "dispute_status": dispute.status,
                       "credits_moved": moved})
    return moved
