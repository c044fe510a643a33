"""Test controls under `/_sandbox/`: move Stripe objects through their life and steer deliveries.

Every action that makes Stripe send an event takes the same delivery knobs: `deliver` (false
keeps the event undelivered until a later `POST /_sandbox/deliveries`), `duplicate` (send it
N times) and `concurrent` (send the copies at once). `POST /_sandbox/deliveries` sends held or past
events in the order listed, which is how tests reorder them. These routes take no key: the
stand-in listens on 127.0.0.1 only.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from falflow.sandbox.stripe.cards import SUCCESS_CARD, CardDeclinedError, charge_card
from falflow.sandbox.stripe.delivery import MAX_DUPLICATES, DeliveryAttempt, DeliveryOptions, WebhookDeliverer
from falflow.sandbox.stripe.records import EventRecord
from falflow.sandbox.stripe.store import StandinRequestError, StripeStore


class DeliveryKnobs(BaseModel):
    deliver: bool = Field(default=True, description="Send the event now; false keeps it for a later POST /_sandbox/deliveries.")
    duplicate: int = Field(default=1, ge=1, le=MAX_DUPLICATES, description="Copies of the event to send.")
    concurrent: bool = Field(default=False, description="Send the copies at the same time instead of one by one.")


class PayRequest(DeliveryKnobs):
    card: str = Field(default=SUCCESS_CARD, description="Test card number; 4000 0000 0000 0002 is declined.")
    delayed: bool = Field(default=False, description="Pay with a delayed method: the session completes unpaid.")


class AsyncPaymentRequest(DeliveryKnobs):
    outcome: Literal["succeeded", "failed"]


class RefundRequest(DeliveryKnobs):
    amount: int | None = Field(default=None, ge=1, description="Minor units; omitted refunds everything left.")


class DisputeRequest(DeliveryKnobs):
    amount: int | None = Field(default=None, ge=1, description="Minor units; omitted disputes everything not refunded.")
    inquiry: bool = Field(default=False, description="Open an inquiry (warning_needs_response) instead of a chargeback.")


class CloseDisputeRequest(DeliveryKnobs):
    outcome: Literal["won", "lost"]


class DeliveriesRequest(BaseModel):
    event_ids: list[str] = Field(min_length=1, description="Events to send, in this order.")
    duplicate: int = Field(default=1, ge=1, le=MAX_DUPLICATES)
    concurrent: bool = False


def _attempts(attempts: list[DeliveryAttempt]) -> list[dict[str, Any]]:
    return [
        {"event_id": a.event_id, "event_type": a.event_type, "status_code": a.status_code, "error": a.error}
        for a in attempts
    ]


def build_control_router(store: StripeStore, deliverer: WebhookDeliverer) -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

    async def announce(event: EventRecord, knobs: DeliveryKnobs, **fields: Any) -> dict[str, Any]:
        attempts: list[DeliveryAttempt] = []
        if knobs.deliver:
            options = DeliveryOptions(duplicate=knobs.duplicate, concurrent=knobs.concurrent)
            attempts = await deliverer.deliver([event.id], options)
        else:
            store.hold(event.id)
        return {"event_id": event.id, "event_type": event.type, "held": not knobs.deliver,
                "object": event.object, "deliveries": _attempts(attempts), **fields}

    @router.post("/checkout/sessions/{session_id}/pay")
    async def pay_session(session_id: str, body: PayRequest) -> dict[str, Any]:
        store.get_session(session_id)
        try:
            charge_card(body.card)
        except CardDeclinedError as exc:
            raise StandinRequestError(402, "card_error", exc.message, code=exc.code) from None
        event = store.complete_session(session_id, delayed=body.delayed)
        intent = store.get_payment_intent(store.get_session(session_id).payment_intent or "")
        return await announce(event, body, payment_intent_id=intent.id, charge_id=intent.latest_charge)

    @router.post("/checkout/sessions/{session_id}/async-payment")
    async def settle_async_payment(session_id: str, body: AsyncPaymentRequest) -> dict[str, Any]:
        event = store.settle_delayed_payment(session_id, succeeded=body.outcome == "succeeded")
        intent = store.get_payment_intent(store.get_session(session_id).payment_intent or "")
        return await announce(event, body, payment_intent_id=intent.id, charge_id=intent.latest_charge)

    @router.post("/checkout/sessions/{session_id}/expire")
    async def expire_session(session_id: str, body: DeliveryKnobs | None = None) -> dict[str, Any]:
        return await announce(store.expire_session(session_id), body or DeliveryKnobs())

    @router.post("/charges/{charge_id}/refund")
    async def refund_charge(charge_id: str, body: RefundRequest | None = None) -> dict[str, Any]:
        body = body or RefundRequest()
        event = store.refund_charge(charge_id, body.amount)
        return await announce(event, body, amount_refunded=store.get_charge(charge_id).amount_refunded)

    @router.post("/charges/{charge_id}/dispute")
    async def open_dispute(charge_id: str, body: DisputeRequest | None = None) -> dict[str, Any]:
        body = body or DisputeRequest()
        event = store.open_dispute(charge_id, amount=body.amount, inquiry=body.inquiry)
        return await announce(event, body, dispute_id=event.object["id"])

    @router.post("/disputes/{dispute_id}/close")
    async def close_dispute(dispute_id: str, body: CloseDisputeRequest) -> dict[str, Any]:
        event = store.close_dispute(dispute_id, won=body.outcome == "won")
        return await announce(event, body, dispute_id=dispute_id)

    @router.post("/deliveries")
    async def deliver_events(body: DeliveriesRequest) -> dict[str, Any]:
        options = DeliveryOptions(duplicate=body.duplicate, concurrent=body.concurrent)
        return {"deliveries": _attempts(await deliverer.deliver(body.event_ids, options))}

    @router.get("/events/held")
    async def list_held_events() -> dict[str, Any]:
        return {"data": [{"id": event.id, "type": event.type} for event in store.held_events()]}

    return router
