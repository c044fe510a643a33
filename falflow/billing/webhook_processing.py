"""Processing one verified Stripe event: the unit of work behind `POST /api/webhooks/stripe`.

Steps: skip an event id the inbox already finished. Record types falflow does not handle,
and events from the wrong mode (test or live), as ignored. Read the object's current state
from Stripe. Then, in one write transaction, claim the inbox row and converge the purchase
and ledger. Reading Stripe before the transaction keeps network waits out of the database
write lock, and the convergence rules make a stale read harmless. This module owns its transactions, like an
endpoint: a failure rolls the effects back, is recorded on the inbox row in a separate
transaction, and is re-raised so the endpoint responds 500 and Stripe retries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from falflow.billing import event_inbox, stripe_sync
from falflow.billing.purchase_models import FINAL_EVENT_STATUSES, StripeEventRecord, StripeEventStatus
from falflow.billing.stripe_sync import SyncOutcome, SyncResult
from falflow.integrations.stripe.gateway import StripeGateway
from falflow.integrations.stripe.types import ChargeState, CheckoutSessionState, DisputeState, StripeEvent
from falflow.kit.db import Database
from falflow.kit.timeutil import utcnow

logger = logging.getLogger("falflow.billing")
security_logger = logging.getLogger("falflow.security")

SESSION_EVENT_TYPES = frozenset({
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
})
CHARGE_EVENT_TYPES = frozenset({"charge.refunded"})
DISPUTE_EVENT_TYPES = frozenset({
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
})
HANDLED_EVENT_TYPES = SESSION_EVENT_TYPES | CHARGE_EVENT_TYPES | DISPUTE_EVENT_TYPES

_STATUS_FOR_OUTCOME = {
    SyncOutcome.APPLIED: StripeEventStatus.PROCESSED,
    SyncOutcome.IGNORED: StripeEventStatus.IGNORED,
    SyncOutcome.PENDING_DEPENDENCY: StripeEventStatus.PENDING_DEPENDENCY,
}

ObservedState = CheckoutSessionState | ChargeState | DisputeState


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    status: StripeEventStatus
    duplicate: bool
    reason: str


def _observe(gateway: StripeGateway, event: StripeEvent, object_id: str) -> ObservedState:
    if event.type in SESSION_EVENT_TYPES:
        return gateway.retrieve_session(object_id)
    if event.type in CHARGE_EVENT_TYPES:
        return gateway.retrieve_charge(object_id)
    return gateway.retrieve_dispute(object_id)


def _converge(session: Session, event: StripeEvent, state: ObservedState) -> SyncResult:
    if isinstance(state, CheckoutSessionState):
        failed = event.type == "checkout.session.async_payment_failed"
        return stripe_sync.sync_checkout_session(session, state, async_payment_failed=failed)
    if isinstance(state, ChargeState):
        return stripe_sync.sync_charge(session, state)
    return stripe_sync.sync_dispute(session, state)


def _already_finished(database: Database, event_id: str) -> StripeEventStatus | None:
    with database.read_session() as session:
        record = event_inbox.get_event(session, event_id)
        if record is not None and StripeEventStatus(record.status) in FINAL_EVENT_STATUSES:
            return StripeEventStatus(record.status)
    return None


def _store_without_effects(database: Database, event: StripeEvent, reason: str) -> WebhookOutcome:
    with database.write_session() as session:
        record = event_inbox.claim_event(session, event)
        if record is None:
            return WebhookOutcome(event.id, StripeEventStatus.IGNORED, True, "already handled")
        event_inbox.finish_event(session, record, StripeEventStatus.IGNORED, reason)
    return WebhookOutcome(event.id, StripeEventStatus.IGNORED, False, reason)


def process_stripe_event(database: Database, gateway: StripeGateway, event: StripeEvent) -> WebhookOutcome:
    """Process one verified event, whose effects apply once however often it is delivered."""
    finished = _already_finished(database, event.id)
    if finished is not None:
        logger.info("billing.webhook.duplicate", extra={"event_id": event.id, "event_type": event.type})
        return WebhookOutcome(event.id, finished, True, "already handled")
    if event.livemode != gateway.livemode:
        security_logger.warning("billing.webhook.livemode_mismatch",
                                extra={"event_id": event.id, "event_livemode": event.livemode})
        return _store_without_effects(database, event, "livemode does not match this deployment's Stripe key")
    if event.type not in HANDLED_EVENT_TYPES:
        return _store_without_effects(database, event, f"falflow does not handle {event.type}")
    if event.object_id is None:
        return _store_without_effects(database, event, "the event names no object")

    try:
        state = _observe(gateway, event, event.object_id)
        with database.write_session() as session:
            record = event_inbox.claim_event(session, event)
            if record is None:
                return WebhookOutcome(event.id, StripeEventStatus.PROCESSED, True, "already handled")
            result = _converge(session, event, state)
            status = _STATUS_FOR_OUTCOME[result.outcome]
            event_inbox.finish_event(session, record, status, result.reason)
    except Exception as exc:
        _record_failure(database, event, exc)
        raise
    logger.info("billing.webhook.processed",
                extra={"event_id": event.id, "event_type": event.type, "status": status.value, "reason": result.reason,
                       "purchase_id": str(result.purchase_id) if result.purchase_id else None})
    return WebhookOutcome(event.id, status, False, result.reason)


def _record_failure(database: Database, event: StripeEvent, exc: Exception) -> None:
    logger.error("billing.webhook.failed",
                 extra={"event_id": event.id, "event_type": event.type, "error_class": type(exc).__name__},
                 exc_info=exc)
    try:
        with database.write_session() as session:
            event_inbox.record_failure(session, event, f"{type(exc).__name__}: {exc}")
    except Exception as record_exc:  # noqa: BLE001 - the original error is what the caller must see
        logger.error("billing.webhook.failure_not_recorded",
                     extra={"event_id": event.id, "error_class": type(record_exc).__name__})


def _stored_object_id(payload: Mapping[str, Any]) -> str | None:
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    object_id = obj.get("id") if isinstance(obj, Mapping) else None
    return object_id if isinstance(object_id, str) else None


def event_from_record(record: StripeEventRecord) -> StripeEvent:
    """Rebuild a stored event; its signature was verified when it was first received."""
    return StripeEvent(
        id=record.id, type=record.type, livemode=record.livemode, api_version=record.api_version,
        created=record.stripe_created, object_id=_stored_object_id(record.payload), payload=record.payload,
    )


def reprocess_unfinished_events(
    database: Database, gateway: StripeGateway, *, older_than: timedelta = timedelta(minutes=5), limit: int = 100
) -> list[WebhookOutcome]:
    """Process again the stored events still failed, pending a purchase, or stuck as received.

    Meant for a periodic job: a `pending_dependency` event waits for its purchase row, and a
    failed one for a fix, without depending on Stripe's retries. Failures are logged and skipped.
    """
    with database.read_session() as session:
        records = event_inbox.list_unfinished_events(session, received_before=utcnow() - older_than, limit=limit)
        events = [event_from_record(record) for record in records]
    outcomes: list[WebhookOutcome] = []
    for event in events:
        try:
            outcomes.append(process_stripe_event(database, gateway, event))
        except Exception:  # noqa: BLE001 - already logged and recorded; the next event still runs
            continue
    return outcomes
