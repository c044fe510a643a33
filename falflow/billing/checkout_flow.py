"""Checkout units of work shared by the API and the Reflex UI: each owns its transactions.

`open_checkout` commits the pending purchase, calls Stripe with no transaction open, then
stores the session id in a second transaction; see `falflow.billing.checkout` for why.
`sync_checkout` re-reads a session from Stripe and credits it if paid, for the success page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from falflow.accounts import service as accounts
from falflow.billing import checkout, stripe_sync
from falflow.billing import purchase_repository as purchases
from falflow.billing.purchase_models import Purchase
from falflow.integrations.stripe.errors import StripeUnavailableError
from falflow.integrations.stripe.gateway import StripeGateway
from falflow.kit.db import Database
from falflow.kit.errors import NotFoundError


@dataclass(frozen=True)
class OpenedCheckout:
    url: str
    session_id: str
    purchase_id: uuid.UUID


def open_checkout(
    database: Database, gateway: StripeGateway, *, public_url: str, user_id: uuid.UUID, pack_id: str
) -> OpenedCheckout:
    """Start buying a pack and return Stripe's payment page for it.

    Raises 404/422 for a bad pack, 429 after too many checkouts, and 503 when Stripe cannot
    be reached (the purchase is then marked failed).
    """
    with database.write_session() as session:
        pending = checkout.start_purchase(session, user_id=user_id, pack_id=pack_id)
        email = accounts.resolve_user_by_id(session, user_id).email
    urls = checkout.checkout_return_urls(public_url)
    try:
        created = gateway.create_checkout_session(
            pending.purchase, pending.pack, success_url=urls.success_url, cancel_url=urls.cancel_url,
            customer_email=email,
        )
    except StripeUnavailableError as exc:
        with database.write_session() as session:
            checkout.record_checkout_failure(session, pending.purchase.id, exc.detail)
        raise
    with database.write_session() as session:
        checkout.attach_checkout_session(session, pending.purchase.id, created)
    return OpenedCheckout(url=created.url, session_id=created.id, purchase_id=pending.purchase.id)


def sync_checkout(database: Database, gateway: StripeGateway, *, user_id: uuid.UUID, session_id: str) -> Purchase:
    """Converge the caller's purchase on its Checkout Session as Stripe reports it now.

    Safe next to the webhook: both go through the same idempotent fulfilment. Raises 404 when
    the session does not belong to one of the user's purchases.
    """
    with database.read_session() as session:
        purchase = purchases.get_user_purchase_by_session(session, user_id, session_id)
    if purchase is None:
        raise NotFoundError.for_resource("Checkout session", session_id)
    state = gateway.retrieve_session(session_id)
    with database.write_session() as session:
        stripe_sync.sync_checkout_session(session, state)
        refreshed = purchases.get_purchase(session, purchase.id)
    if refreshed is None:
        raise NotFoundError.for_resource("Purchase", purchase.id)
    return refreshed
