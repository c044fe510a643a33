"""The stand-in's state: Checkout Sessions, PaymentIntents, Charges, Disputes, events and
remembered idempotency keys, kept in memory for the life of the process.

Every change that Stripe would announce appends an event with a snapshot of the object, and
returns it so the caller can deliver it now or hold it back. Methods raise
`StandinRequestError` with Stripe's error type and HTTP status when Stripe would reject the call.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from falflow.sandbox.stripe import shapes
from falflow.sandbox.stripe.records import (
    SESSION_TTL_SECONDS,
    ChargeRecord,
    DisputeRecord,
    EventRecord,
    IdempotentResult,
    LineItemRecord,
    PaymentIntentRecord,
    SessionRecord,
)

# Stripe's documented limits on metadata.
_METADATA_MAX_KEYS = 50
_METADATA_MAX_KEY_CHARS = 40
_METADATA_MAX_VALUE_CHARS = 500
_OPEN_DISPUTE_STATUSES = {"needs_response", "under_review", "warning_needs_response", "warning_under_review"}


class StandinRequestError(Exception):
    """A request Stripe would reject, with the status and error envelope it would send."""

    def __init__(
        self, status_code: int, error_type: str, message: str, *, code: str | None = None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = shapes.error_body(error_type, message, code=code, param=param)


def _invalid(message: str, *, param: str | None = None, code: str = "parameter_invalid") -> StandinRequestError:
    return StandinRequestError(400, "invalid_request_error", message, code=code, param=param)


def _missing(kind: str, object_id: str) -> StandinRequestError:
    return StandinRequestError(404, "invalid_request_error", f"No such {kind}: '{object_id}'", code="resource_missing", param="id")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _int_param(value: object, param: str, *, minimum: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise _invalid(f"{param} must be an integer, got '{value}'.", param=param) from None
    if number < minimum:
        raise _invalid(f"{param} must be at least {minimum}, got {number}.", param=param)
    return number


def _metadata(value: object, param: str) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise _invalid(f"{param} must be a set of key-value pairs.", param=param)
    if len(value) > _METADATA_MAX_KEYS:
        raise _invalid(f"{param} has {len(value)} keys; at most {_METADATA_MAX_KEYS} are allowed.", param=param)
    for key, item in value.items():
        if len(key) > _METADATA_MAX_KEY_CHARS or not isinstance(item, str) or len(item) > _METADATA_MAX_VALUE_CHARS:
            raise _invalid(
                f"{param}[{key}] breaks the limits (keys up to {_METADATA_MAX_KEY_CHARS} characters, "
                f"string values up to {_METADATA_MAX_VALUE_CHARS}).",
                param=f"{param}[{key}]",
            )
    return dict(value)


def _line_items(value: object) -> tuple[list[LineItemRecord], str]:
    if not isinstance(value, list) or not value:
        raise _invalid("line_items is required in payment mode.", param="line_items", code="parameter_missing")
    items: list[LineItemRecord] = []
    currencies: set[str] = set()
    for index, raw in enumerate(value):
        param = f"line_items[{index}]"
        if not isinstance(raw, dict):
            raise _invalid(f"{param} must be a set of parameters.", param=param)
        if "price" in raw:
            raise StandinRequestError(
                400, "invalid_request_error", f"No such price: '{raw['price']}'; the stand-in supports price_data only.",
                code="resource_missing", param=f"{param}[price]",
            )
        price_data = raw.get("price_data")
        if not isinstance(price_data, dict):
            raise _invalid(f"{param}[price_data] is required.", param=f"{param}[price_data]", code="parameter_missing")
        currency = str(price_data.get("currency", "")).lower()
        if len(currency) != 3 or not currency.isalpha():
            raise _invalid(f"{param}[price_data][currency] must be a three-letter ISO code, got '{currency}'.",
                           param=f"{param}[price_data][currency]")
        product = price_data.get("product_data")
        if not isinstance(product, dict) or not product.get("name"):
            raise _invalid(f"{param}[price_data][product_data][name] is required.",
                           param=f"{param}[price_data][product_data][name]", code="parameter_missing")
        currencies.add(currency)
        items.append(
            LineItemRecord(
                name=str(product["name"]),
                description=str(product["description"]) if product.get("description") else None,
                unit_amount=_int_param(price_data.get("unit_amount"), f"{param}[price_data][unit_amount]", minimum=1),
                quantity=_int_param(raw.get("quantity", "1"), f"{param}[quantity]", minimum=1),
            )
        )
    if len(currencies) != 1:
        raise _invalid("All line_items must use the same currency.", param="line_items")
    return items, currencies.pop()


class StripeStore:
    """In-memory Stripe state; safe to call from several threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.base_url = ""
        self.sessions: dict[str, SessionRecord] = {}
        self.payment_intents: dict[str, PaymentIntentRecord] = {}
        self.charges: dict[str, ChargeRecord] = {}
        self.disputes: dict[str, DisputeRecord] = {}
        self.events: dict[str, EventRecord] = {}
        self._idempotent_results: dict[tuple[str, str], IdempotentResult] = {}

    # Idempotency keys -----------------------------------------------------------------

    def recall(self, api_key: str, key: str, fingerprint: tuple[tuple[str, str], ...]) -> IdempotentResult | None:
        """Return the remembered result for `key`, or raise if it came with other parameters."""
        with self._lock:
            result = self._idempotent_results.get((api_key, key))
        if result is None:
            return None
        if result.fingerprint != fingerprint:
            raise StandinRequestError(
                400, "idempotency_error",
                f"Idempotency-Key '{key}' was first sent with different parameters; "
                "send a new key for a different request.",
            )
        return result

    def remember(self, api_key: str, key: str, result: IdempotentResult) -> None:
        with self._lock:
            self._idempotent_results.setdefault((api_key, key), result)

    # Rendering --------------------------------------------------------------------------

    def session_url(self, session_id: str) -> str:
        return f"{self.base_url}/checkout/{session_id}"

    def render_session(self, record: SessionRecord, *, expand_payment_intent: bool = False) -> dict[str, Any]:
        intent = None
        if expand_payment_intent and record.payment_intent:
            intent = shapes.payment_intent_json(self.payment_intents[record.payment_intent])
        return shapes.session_json(record, url=self.session_url(record.id), payment_intent=intent)

    def render_charge(self, record: ChargeRecord, *, expand_payment_intent: bool = False) -> dict[str, Any]:
        intent = shapes.payment_intent_json(self.payment_intents[record.payment_intent]) if expand_payment_intent else None
        return shapes.charge_json(record, payment_intent=intent)

    def render_dispute(self, record: DisputeRecord, *, expand_payment_intent: bool = False) -> dict[str, Any]:
        intent = shapes.payment_intent_json(self.payment_intents[record.payment_intent]) if expand_payment_intent else None
        return shapes.dispute_json(record, payment_intent=intent)

    # Lookups ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> SessionRecord:
        with self._lock:
            record = self.sessions.get(session_id)
        if record is None:
            raise _missing("checkout.session", session_id)
        return record

    def get_payment_intent(self, payment_intent_id: str) -> PaymentIntentRecord:
        with self._lock:
            record = self.payment_intents.get(payment_intent_id)
        if record is None:
            raise _missing("payment_intent", payment_intent_id)
        return record

    def get_charge(self, charge_id: str) -> ChargeRecord:
        with self._lock:
            record = self.charges.get(charge_id)
        if record is None:
            raise _missing("charge", charge_id)
        return record

    def get_dispute(self, dispute_id: str) -> DisputeRecord:
        with self._lock:
            record = self.disputes.get(dispute_id)
        if record is None:
            raise _missing("dispute", dispute_id)
        return record

    def get_event(self, event_id: str) -> EventRecord:
        with self._lock:
            record = self.events.get(event_id)
        if record is None:
            raise _missing("event", event_id)
        return record

    def list_events(self, *, event_type: str | None = None, delivery_success: bool | None = None) -> list[EventRecord]:
        """Return events newest first, optionally filtered like `GET /v1/events`."""
        with self._lock:
            records = list(self.events.values())
        records.reverse()
        if event_type is not None:
            records = [record for record in records if record.type == event_type]
        if delivery_success is not None:
            records = [record for record in records if bool(record.delivery_success) is delivery_success]
        return records

    def held_events(self) -> list[EventRecord]:
        with self._lock:
            return [record for record in self.events.values() if record.held]

    # Checkout Sessions -----------------------------------------------------------------

    def create_session(self, params: dict[str, Any]) -> SessionRecord:
        if params.get("mode") != "payment":
            raise _invalid(f"mode must be 'payment' here, got '{params.get('mode')}'.", param="mode")

        success_url = params.get("success_url")
        if not isinstance(success_url, str) or not success_url.startswith(("http://", "https://")):
            raise _invalid("success_url must be an http(s) URL.", param="success_url", code="parameter_missing")
        cancel_url = params.get("cancel_url")
        if cancel_url is not None and (not isinstance(cancel_url, str) or not cancel_url.startswith(("http://", "https://"))):
            raise _invalid("cancel_url must be an http(s) URL.", param="cancel_url")

        items, currency = _line_items(params.get("line_items"))
        intent_data = params.get("payment_intent_data") or {}
        if not isinstance(intent_data, dict):
            raise _invalid("payment_intent_data must be a set of parameters.", param="payment_intent_data")
        reference = params.get("client_reference_id")
        if reference is not None and (not isinstance(reference, str) or len(reference) > 200):
            raise _invalid("client_reference_id must be a string of at most 200 characters.", param="client_reference_id")

        now = int(time.time())
        expires_at = now + SESSION_TTL_SECONDS
        if params.get("expires_at") is not None:
            expires_at = _int_param(params["expires_at"], "expires_at", minimum=now + 30 * 60)
            if expires_at > now + SESSION_TTL_SECONDS:
                raise _invalid("expires_at must be at most 24 hours ahead.", param="expires_at")

        record = SessionRecord(
            id=_new_id("cs_test"),
            created=now,
            expires_at=expires_at,
            currency=currency,
            line_items=items,
            metadata=_metadata(params.get("metadata"), "metadata"),
            payment_intent_metadata=_metadata(intent_data.get("metadata"), "payment_intent_data[metadata]"),
            client_reference_id=reference,
            customer_email=str(params["customer_email"]) if params.get("customer_email") else None,
            success_url=success_url,
            cancel_url=cancel_url,
        )
        with self._lock:
            self.sessions[record.id] = record
        return record

    def complete_session(self, session_id: str, *, delayed: bool = False) -> EventRecord:
        """Pay an open session: by card now, or with a delayed method whose outcome comes later."""
        with self._lock:
            session = self._open_session(session_id)
            intent = PaymentIntentRecord(
                id=_new_id("pi"),
                created=int(time.time()),
                amount=session.amount_total,
                currency=session.currency,
                metadata=dict(session.payment_intent_metadata),
                status="processing" if delayed else "succeeded",
            )
            self.payment_intents[intent.id] = intent
            session.payment_intent = intent.id
            session.status = "complete"
            if not delayed:
                self._create_charge(intent)
                session.payment_status = "paid"
            return self._emit("checkout.session.completed", self.render_session(session))

    def settle_delayed_payment(self, session_id: str, *, succeeded: bool) -> EventRecord:
        """Finish a delayed payment: succeeded creates the charge, failed leaves the session unpaid."""
        with self._lock:
            session = self.get_session(session_id)
            intent = self.payment_intents.get(session.payment_intent or "")
            if session.status != "complete" or intent is None or intent.status != "processing":
                raise _invalid(f"Checkout Session {session_id} has no delayed payment in progress.", param="session")
            if succeeded:
                self._create_charge(intent)
                session.payment_status = "paid"
                event_type = "checkout.session.async_payment_succeeded"
            else:
                intent.status = "requires_payment_method"
                event_type = "checkout.session.async_payment_failed"
            return self._emit(event_type, self.render_session(session))

    def expire_session(self, session_id: str) -> EventRecord:
        with self._lock:
            session = self._open_session(session_id)
            session.status = "expired"
            return self._emit("checkout.session.expired", self.render_session(session))

    def _open_session(self, session_id: str) -> SessionRecord:
        session = self.get_session(session_id)
        if session.status != "open":
            raise _invalid(f"Checkout Session {session_id} is {session.status}, not open.", param="session",
                           code="checkout_session_not_open")
        return session

    def _create_charge(self, intent: PaymentIntentRecord) -> ChargeRecord:
        charge = ChargeRecord(
            id=_new_id("ch"), created=int(time.time()), amount=intent.amount, currency=intent.currency,
            payment_intent=intent.id,
        )
        self.charges[charge.id] = charge
        intent.status = "succeeded"
        intent.latest_charge = charge.id
        return charge

    # Refunds and disputes --------------------------------------------------------------

    def refund_charge(self, charge_id: str, amount: int | None = None) -> EventRecord:
        """Refund part or all of what is left on a charge; `amount_refunded` grows cumulatively."""
        with self._lock:
            charge = self.get_charge(charge_id)
            remaining = charge.amount - charge.amount_refunded
            if charge.disputed:
                raise _invalid(f"Charge {charge_id} has been disputed and cannot be refunded.", code="charge_disputed")
            if remaining <= 0:
                raise _invalid(f"Charge {charge_id} has already been refunded.", code="charge_already_refunded")
            refund = remaining if amount is None else amount
            if not 0 < refund <= remaining:
                raise _invalid(f"Refund amount must be between 1 and {remaining}, got {refund}.", param="amount",
                               code="amount_too_large")
            previous = charge.amount_refunded
            charge.amount_refunded += refund
            return self._emit("charge.refunded", self.render_charge(charge), {"amount_refunded": previous})

    def open_dispute(self, charge_id: str, *, amount: int | None = None, inquiry: bool = False) -> EventRecord:
        with self._lock:
            charge = self.get_charge(charge_id)
            if charge.dispute is not None:
                raise _invalid(f"Charge {charge_id} already has dispute {charge.dispute}.", code="charge_disputed")
            disputable = charge.amount - charge.amount_refunded
            disputed_amount = disputable if amount is None else amount
            if not 0 < disputed_amount <= disputable:
                raise _invalid(f"Dispute amount must be between 1 and {disputable}, got {disputed_amount}.", param="amount")
            dispute = DisputeRecord(
                id=_new_id("dp"), created=int(time.time()), charge=charge.id, payment_intent=charge.payment_intent,
                amount=disputed_amount, currency=charge.currency,
                status="warning_needs_response" if inquiry else "needs_response",
            )
            self.disputes[dispute.id] = dispute
            charge.dispute = dispute.id
            charge.disputed = not inquiry
            return self._emit("charge.dispute.created", self.render_dispute(dispute))

    def close_dispute(self, dispute_id: str, *, won: bool) -> EventRecord:
        """Close an open dispute; an inquiry always ends `warning_closed`, whatever the outcome."""
        with self._lock:
            dispute = self.get_dispute(dispute_id)
            if dispute.status not in _OPEN_DISPUTE_STATUSES:
                raise _invalid(f"Dispute {dispute_id} is already closed ({dispute.status}).", param="dispute")
            previous = dispute.status
            if dispute.status.startswith("warning_"):
                dispute.status = "warning_closed"
            else:
                dispute.status = "won" if won else "lost"
            return self._emit("charge.dispute.closed", self.render_dispute(dispute), {"status": previous})

    # Events -----------------------------------------------------------------------------

    def _emit(self, event_type: str, snapshot: dict[str, Any], previous: dict[str, Any] | None = None) -> EventRecord:
        record = EventRecord(
            id=_new_id("evt"), type=event_type, created=int(time.time()), object=snapshot, previous_attributes=previous
        )
        self.events[record.id] = record
        return record

    def record_delivery(self, event_id: str, *, succeeded: bool) -> None:
        with self._lock:
            record = self.events[event_id]
            record.delivery_attempts += 1
            record.held = False
            # Once any attempt succeeded the event counts as delivered, as on Stripe's dashboard.
            record.delivery_success = bool(record.delivery_success) or succeeded

    def hold(self, event_id: str) -> None:
        with self._lock:
            self.events[event_id].held = True
