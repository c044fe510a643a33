"""Converging purchases on the state Stripe reports for a Session, a Charge or a Dispute.

Handlers never act on an event's embedded snapshot. They read the object as Stripe has it now
(through the gateway) and bring the purchase and ledger up to it. Every effect is guarded by
a status check or a unique ledger key, so duplicates, stale reads and any delivery order end
in the same state. A charge or dispute that arrives before the checkout event
first credits the purchase (the PaymentIntent proves payment) and then takes back its share.

Objects are mapped to purchases through the metadata falflow wrote at checkout
(`client_reference_id` and `purchase_id` on the Session and its PaymentIntent). Anything that
disagrees with the purchase row (another amount, user or session) is ignored and logged as a
security event instead of changing money.
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass

from sqlmodel import Session

from falflow.billing import clawbacks, fulfillment
from falflow.billing import purchase_repository as repository
from falflow.billing.purchase_models import CREDITED_STATUSES, Purchase, PurchaseStatus
from falflow.integrations.stripe.types import ChargeState, CheckoutSessionState, DisputeState, PaymentIntentState

logger = logging.getLogger("falflow.billing")
security_logger = logging.getLogger("falflow.security")

# PaymentIntent statuses that mean a delayed payment did not go through.
_FAILED_INTENT_STATUSES = frozenset({"requires_payment_method", "canceled"})


class SyncOutcome(str, enum.Enum):
    APPLIED = "processed"
    IGNORED = "ignored"
    PENDING_DEPENDENCY = "pending_dependency"


@dataclass(frozen=True)
class SyncResult:
    outcome: SyncOutcome
    reason: str
    purchase_id: uuid.UUID | None = None


def _parse_purchase_id(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _rejected(reason: str, purchase_id: uuid.UUID | None, **ids: str | None) -> SyncResult:
    security_logger.warning(
        "billing.stripe.mismatch",
        extra={"reason": reason, "purchase_id": str(purchase_id) if purchase_id else None, **ids},
    )
    return SyncResult(SyncOutcome.IGNORED, reason, purchase_id)


def _is_credited(purchase: Purchase) -> bool:
    return purchase.credited_at is not None and PurchaseStatus(purchase.status) in CREDITED_STATUSES


def _record_payment_intent(purchase: Purchase, intent: PaymentIntentState | None) -> None:
    if intent is not None and purchase.stripe_payment_intent_id is None:
        purchase.stripe_payment_intent_id = intent.id
    if intent is not None and intent.latest_charge and purchase.stripe_charge_id is None:
        purchase.stripe_charge_id = intent.latest_charge


def sync_checkout_session(
    session: Session, state: CheckoutSessionState, *, async_payment_failed: bool = False
) -> SyncResult:
    """Converge the purchase behind a Checkout Session; `async_payment_failed` marks that event type."""
    reference = state.client_reference_id
    metadata_id = state.metadata.get("purchase_id")
    if reference is None and metadata_id is None:
        return SyncResult(SyncOutcome.IGNORED, "the session carries no falflow purchase id")
    if reference is not None and metadata_id is not None and reference != metadata_id:
        return _rejected("client_reference_id differs from metadata.purchase_id", None, session_id=state.id)
    purchase_id = _parse_purchase_id(reference or metadata_id)
    if purchase_id is None:
        return SyncResult(SyncOutcome.IGNORED, "the session's purchase id is not a falflow purchase id")
    purchase = repository.lock_purchase(session, purchase_id)
    if purchase is None:
        return SyncResult(SyncOutcome.PENDING_DEPENDENCY, "no purchase row with this id yet", purchase_id)
    if purchase.stripe_checkout_session_id not in (None, state.id):
        return _rejected("the purchase belongs to another Checkout Session", purchase_id, session_id=state.id)
    if state.metadata.get("user_id") not in (None, str(purchase.user_id)):
        return _rejected("metadata.user_id differs from the purchase's user", purchase_id, session_id=state.id)
    if state.amount_total != purchase.amount_minor or (state.currency or "").lower() != purchase.currency:
        return _rejected("the session's amount or currency differs from the purchase", purchase_id, session_id=state.id)

    purchase.stripe_checkout_session_id = state.id
    _record_payment_intent(purchase, state.payment_intent)
    repository.save(session, purchase)

    if state.payment_status == "paid":
        external_ref = state.payment_intent.id if state.payment_intent else state.id
        credited = fulfillment.fulfill_purchase(session, purchase.id, external_ref=external_ref)
        return SyncResult(SyncOutcome.APPLIED, "credited" if credited else "already credited", purchase_id)
    if state.payment_status == "no_payment_required":
        logger.warning("billing.checkout.no_payment_required", extra={"purchase_id": str(purchase_id)})
        return SyncResult(SyncOutcome.IGNORED, "no payment was required; falflow has no free packs", purchase_id)
    if state.status == "expired":
        fulfillment.mark_expired(session, purchase.id)
        return SyncResult(SyncOutcome.APPLIED, "expired", purchase_id)
    if state.status == "complete":
        intent_failed = state.payment_intent is not None and state.payment_intent.status in _FAILED_INTENT_STATUSES
        if async_payment_failed or intent_failed:
            fulfillment.mark_failed(session, purchase.id, "the delayed payment failed")
            return SyncResult(SyncOutcome.APPLIED, "payment failed", purchase_id)
        fulfillment.mark_processing(session, purchase.id)
        return SyncResult(SyncOutcome.APPLIED, "waiting for a delayed payment", purchase_id)
    return SyncResult(SyncOutcome.APPLIED, "the session is still open", purchase_id)


def _purchase_for_intent(
    session: Session, intent: PaymentIntentState | None, object_id: str
) -> tuple[Purchase | None, SyncResult | None]:
    """Find and lock the purchase a PaymentIntent was created for, or return why there is none."""
    if intent is None:
        return None, SyncResult(SyncOutcome.IGNORED, "the object has no PaymentIntent")
    purchase_id = _parse_purchase_id(intent.metadata.get("purchase_id"))
    if purchase_id is None:
        return None, SyncResult(SyncOutcome.IGNORED, "the PaymentIntent carries no falflow purchase id")
    purchase = repository.lock_purchase(session, purchase_id)
    if purchase is None:
        return None, SyncResult(SyncOutcome.PENDING_DEPENDENCY, "no purchase row with this id yet", purchase_id)
    if purchase.stripe_payment_intent_id not in (None, intent.id):
        return None, _rejected("the purchase belongs to another PaymentIntent", purchase_id, object_id=object_id)
    if intent.amount != purchase.amount_minor or intent.currency.lower() != purchase.currency:
        return None, _rejected("the PaymentIntent's amount or currency differs from the purchase", purchase_id,
                               object_id=object_id)
    if intent.metadata.get("user_id") not in (None, str(purchase.user_id)):
        return None, _rejected("metadata.user_id differs from the purchase's user", purchase_id, object_id=object_id)
    return purchase, None


def _ensure_credited(session: Session, purchase: Purchase, intent: PaymentIntentState) -> Purchase | None:
    """Credit a purchase whose PaymentIntent succeeded but whose checkout event has not arrived."""
    if _is_credited(purchase):
        return purchase
    if intent.status == "succeeded":
        fulfillment.fulfill_purchase(session, purchase.id, external_ref=intent.id)
        refreshed = repository.get_purchase(session, purchase.id)
        if refreshed is not None and _is_credited(refreshed):
            return refreshed
    return None


def sync_charge(session: Session, state: ChargeState) -> SyncResult:
    """Converge a purchase on its Charge: credit it if needed, then apply the cumulative refund."""
    purchase, problem = _purchase_for_intent(session, state.payment_intent, state.id)
    if problem is not None or purchase is None or state.payment_intent is None:
        return problem or SyncResult(SyncOutcome.IGNORED, "the charge has no PaymentIntent")
    if not state.paid:
        return SyncResult(SyncOutcome.IGNORED, "the charge was not paid", purchase.id)
    _record_payment_intent(purchase, state.payment_intent)
    purchase.stripe_charge_id = purchase.stripe_charge_id or state.id
    repository.save(session, purchase)
    credited = _ensure_credited(session, purchase, state.payment_intent)
    if credited is None:
        logger.warning("billing.charge.purchase_not_credited",
                       extra={"purchase_id": str(purchase.id), "status": purchase.status, "charge_id": state.id})
        return SyncResult(SyncOutcome.IGNORED, f"the purchase is {purchase.status}; nothing to take back", purchase.id)
    clawbacks.apply_refund_total(session, credited, charge_id=state.id, amount_refunded_minor=state.amount_refunded)
    return SyncResult(SyncOutcome.APPLIED, "refunds applied", purchase.id)


def sync_dispute(session: Session, state: DisputeState) -> SyncResult:
    """Converge a purchase on a Dispute: take credits back, and return them if the dispute was won."""
    if state.is_inquiry:
        return SyncResult(SyncOutcome.IGNORED, f"inquiry ({state.status}); no funds move")
    purchase, problem = _purchase_for_intent(session, state.payment_intent, state.id)
    if problem is not None or purchase is None or state.payment_intent is None:
        return problem or SyncResult(SyncOutcome.IGNORED, "the dispute has no PaymentIntent")
    _record_payment_intent(purchase, state.payment_intent)
    repository.save(session, purchase)
    credited = _ensure_credited(session, purchase, state.payment_intent)
    if credited is None:
        logger.warning("billing.dispute.purchase_not_credited",
                       extra={"purchase_id": str(purchase.id), "status": purchase.status, "dispute_id": state.id})
        return SyncResult(SyncOutcome.IGNORED, f"the purchase is {purchase.status}; nothing to take back", purchase.id)
    clawbacks.apply_dispute(session, credited, state)
    return SyncResult(SyncOutcome.APPLIED, f"dispute {state.status}", purchase.id)
