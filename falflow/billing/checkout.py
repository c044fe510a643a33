"""Starting a credit purchase: the purchase row, the return URLs and the session bookkeeping.

The endpoint runs three steps: `start_purchase` in one transaction, the Stripe call with no
transaction open, then `attach_checkout_session` (or `record_checkout_failure`) in a second
one. Committing the purchase before Stripe is called means a fast webhook always finds its
row, and no database write lock is held while Stripe responds.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from falflow.billing import packs
from falflow.billing import purchase_repository as repository
from falflow.billing.purchase_models import CreditPack, Purchase, PurchaseStatus
from falflow.integrations.stripe.types import CheckoutSessionRef
from falflow.kit.errors import NotFoundError, RateLimitedError
from falflow.kit.timeutil import utcnow

logger = logging.getLogger("falflow.billing")

# Checkout sessions one user may open per hour; a guard against scripted abuse, far above
# what a person buying credits needs.
MAX_CHECKOUTS_PER_HOUR = 20


@dataclass(frozen=True)
class CheckoutUrls:
    success_url: str
    cancel_url: str


def checkout_return_urls(public_url: str) -> CheckoutUrls:
    """Return where Stripe sends the browser back; Stripe fills in `{CHECKOUT_SESSION_ID}`."""
    base = public_url.rstrip("/")
    return CheckoutUrls(
        success_url=f"{base}/billing?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{base}/billing?checkout=cancelled",
    )


@dataclass(frozen=True)
class PendingCheckout:
    purchase: Purchase
    pack: CreditPack


def start_purchase(session: Session, *, user_id: uuid.UUID, pack_id: str) -> PendingCheckout:
    """Create a pending purchase priced from the server-side pack; raise 404/422 for a bad pack."""
    packs.ensure_default_packs(session)
    pack = packs.get_pack_for_checkout(session, pack_id)
    recent = repository.count_user_purchases_since(session, user_id, utcnow() - timedelta(hours=1))
    if recent >= MAX_CHECKOUTS_PER_HOUR:
        raise RateLimitedError(
            f"You started {recent} checkouts in the last hour (the limit is {MAX_CHECKOUTS_PER_HOUR}); "
            "finish or wait for one of them before starting another.",
            retry_after_seconds=3600,
        )
    purchase = Purchase(
        user_id=user_id, pack_id=pack.id, credits=pack.credits, amount_minor=pack.amount_minor, currency=pack.currency
    )
    repository.add_purchase(session, purchase)
    logger.info("billing.purchase.started", extra={"purchase_id": str(purchase.id), "pack_id": pack.id})
    return PendingCheckout(purchase=purchase, pack=pack)


def attach_checkout_session(session: Session, purchase_id: uuid.UUID, checkout: CheckoutSessionRef) -> Purchase:
    purchase = repository.lock_purchase(session, purchase_id)
    if purchase is None:
        raise NotFoundError.for_resource("Purchase", purchase_id)
    if purchase.stripe_checkout_session_id is None:
        purchase.stripe_checkout_session_id = checkout.id
        repository.save(session, purchase)
    return purchase


def record_checkout_failure(session: Session, purchase_id: uuid.UUID, reason: str) -> None:
    """Mark a purchase failed when Stripe could not create its session; the user can start again."""
    repository.transition_status(
        session, purchase_id, from_statuses=(PurchaseStatus.PENDING,), to_status=PurchaseStatus.FAILED,
        failure_reason=reason[:500],
    )
