"""Purchase state changes: crediting a paid purchase and the other guarded transitions.

Each transition is one guarded UPDATE (`... WHERE status IN (...)`), so a repeated or
concurrent call changes nothing the second time. Crediting also posts the ledger entry
`purchase:<id>`, whose unique key is the second guard. Callers must have confirmed the
payment with Stripe itself (a re-read Session, Charge or PaymentIntent), never with a URL
parameter or an unverified body.
"""

from __future__ import annotations

import logging
import uuid

from sqlmodel import Session

from falflow.billing import ledger
from falflow.billing import purchase_repository as repository
from falflow.billing.models import LedgerKind
from falflow.billing.purchase_models import Purchase, PurchaseStatus
from falflow.kit.timeutil import utcnow

logger = logging.getLogger("falflow.billing")

# Dispute statuses under which the disputed credits stay taken back.
DISPUTE_HOLDING_STATUSES = frozenset({"needs_response", "under_review", "lost"})


def purchase_entry_key(purchase_id: uuid.UUID) -> str:
    return f"purchase:{purchase_id}"


def fulfill_purchase(session: Session, purchase_id: uuid.UUID, *, external_ref: str | None = None) -> bool:
    """Credit a paid purchase once; True only for the call that credited it.

    Allowed from `pending`, `processing` and `failed`: a purchase marked failed because the
    session call timed out may still have been paid, and money Stripe confirms is always
    credited. `external_ref` (the PaymentIntent or Session id) is stored on the ledger entry.
    """
    moved = repository.transition_status(
        session, purchase_id,
        from_statuses=(PurchaseStatus.PENDING, PurchaseStatus.PROCESSING, PurchaseStatus.FAILED),
        to_status=PurchaseStatus.PAID,
        credited_at=utcnow(),
    )
    if not moved:
        return False
    purchase = repository.get_purchase(session, purchase_id)
    if purchase is None:
        raise LookupError(f"purchase {purchase_id} vanished inside its own transaction")
    entry = ledger.post_entry(
        session,
        user_id=purchase.user_id,
        amount=purchase.credits,
        kind=LedgerKind.PURCHASE,
        idempotency_key=purchase_entry_key(purchase.id),
        memo=f"Bought credit pack '{purchase.pack_id}'",
        purchase_id=purchase.id,
        external_ref=external_ref,
    )
    if entry is None:
        # The status showed "not credited" but the ledger already has the entry. The ledger
        # stays the truth; `python -m falflow.billing.check` reports the mismatch too.
        logger.error("billing.purchase.entry_already_posted", extra={"purchase_id": str(purchase.id)})
    logger.info("billing.purchase.fulfilled",
                extra={"purchase_id": str(purchase.id), "user_id": str(purchase.user_id), "credits": purchase.credits})
    return True


def mark_processing(session: Session, purchase_id: uuid.UUID) -> bool:
    """Record a completed checkout whose delayed payment (SEPA, ACH, ...) has not cleared yet."""
    return repository.transition_status(
        session, purchase_id, from_statuses=(PurchaseStatus.PENDING,), to_status=PurchaseStatus.PROCESSING
    )


def mark_failed(session: Session, purchase_id: uuid.UUID, reason: str) -> bool:
    moved = repository.transition_status(
        session, purchase_id,
        from_statuses=(PurchaseStatus.PENDING, PurchaseStatus.PROCESSING),
        to_status=PurchaseStatus.FAILED,
        failure_reason=reason[:500],
    )
    if moved:
        logger.info("billing.purchase.failed", extra={"purchase_id": str(purchase_id), "reason": reason})
    return moved


def mark_expired(session: Session, purchase_id: uuid.UUID) -> bool:
    return repository.transition_status(
        session, purchase_id, from_statuses=(PurchaseStatus.PENDING,), to_status=PurchaseStatus.EXPIRED
    )


def settled_status(purchase: Purchase) -> PurchaseStatus:
    """Return the status a credited purchase should show given its refunds and dispute."""
    if purchase.dispute_status in DISPUTE_HOLDING_STATUSES:
        return PurchaseStatus.DISPUTED
    if purchase.amount_refunded_minor >= purchase.amount_minor:
        return PurchaseStatus.REFUNDED
    if purchase.amount_refunded_minor > 0:
        return PurchaseStatus.PARTIALLY_REFUNDED
    return PurchaseStatus.PAID
