"""Stripe's JSON shapes for the objects the stand-in serves (API version 2026-10-28.endive).

Only the fields falflow or stripe-python read carry real values. The other fields hold
Stripe's documented defaults, so the SDK builds complete objects from them.
"""

from __future__ import annotations

from typing import Any

from falflow.sandbox.stripe.records import (
    ChargeRecord,
    DisputeRecord,
    EventRecord,
    PaymentIntentRecord,
    SessionRecord,
)

API_VERSION = "2026-10-28.endive"


def error_body(error_type: str, message: str, *, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """Build Stripe's error envelope, which stripe-python maps to its exception classes."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if code is not None:
        error["code"] = code
    if param is not None:
        error["param"] = param
    return {"error": error}


def payment_intent_json(record: PaymentIntentRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object": "payment_intent",
        "amount": record.amount,
        "amount_capturable": 0,
        "amount_received": record.amount if record.status == "succeeded" else 0,
        "capture_method": "automatic_async",
        "client_secret": f"{record.id}_secret_standin",
        "confirmation_method": "automatic",
        "created": record.created,
        "currency": record.currency,
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": record.latest_charge,
        "livemode": False,
        "metadata": dict(record.metadata),
        "payment_method": None,
        "payment_method_types": ["card"],
        "status": record.status,
    }


def session_json(record: SessionRecord, *, url: str | None, payment_intent: dict[str, Any] | None = None) -> dict[str, Any]:
    """Render a Checkout Session; `payment_intent` is the expanded object when requested."""
    amount = record.amount_total
    return {
        "id": record.id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "cancel_url": record.cancel_url,
        "client_reference_id": record.client_reference_id,
        "created": record.created,
        "currency": record.currency,
        "customer": None,
        "customer_email": record.customer_email,
        "expires_at": record.expires_at,
        "livemode": False,
        "metadata": dict(record.metadata),
        "mode": "payment",
        "payment_intent": payment_intent if payment_intent is not None else record.payment_intent,
        "payment_method_types": ["card"],
        "payment_status": record.payment_status,
        "status": record.status,
        "success_url": record.success_url,
        "ui_mode": "hosted",
        "url": url if record.status == "open" else None,
    }


def charge_json(record: ChargeRecord, *, payment_intent: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": record.id,
        "object": "charge",
        "amount": record.amount,
        "amount_captured": record.amount,
        "amount_refunded": record.amount_refunded,
        "balance_transaction": None,
        "captured": True,
        "created": record.created,
        "currency": record.currency,
        "customer": None,
        "description": None,
        "disputed": record.disputed,
        "livemode": False,
        "metadata": {},
        "outcome": {"network_status": "approved_by_network", "type": "authorized", "seller_message": "Payment complete."},
        "paid": True,
        "payment_intent": payment_intent if payment_intent is not None else record.payment_intent,
        "refunded": record.refunded,
        "status": "succeeded",
    }


def dispute_json(record: DisputeRecord, *, payment_intent: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": record.id,
        "object": "dispute",
        "amount": record.amount,
        "balance_transactions": [],
        "charge": record.charge,
        "created": record.created,
        "currency": record.currency,
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": payment_intent if payment_intent is not None else record.payment_intent,
        "reason": record.reason,
        "status": record.status,
    }


def event_json(record: EventRecord) -> dict[str, Any]:
    data: dict[str, Any] = {"object": record.object}
    if record.previous_attributes is not None:
        data["previous_attributes"] = record.previous_attributes
    return {
        "id": record.id,
        "object": "event",
        "api_version": API_VERSION,
        "created": record.created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 0 if record.delivery_success else 1,
        "request": {"id": None, "idempotency_key": None},
        "type": record.type,
    }


def list_json(url: str, items: list[dict[str, Any]], *, has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more, "url": url}
