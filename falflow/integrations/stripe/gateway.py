"""The only module that imports `stripe`: Checkout, object reads and webhook verification.

`StripeGateway` wraps one `stripe.StripeClient`. In sandbox mode the client points at the
bundled stand-in through `base_addresses`, so the same code path runs in tests and in live
mode. Every call returns falflow's own types (`falflow.integrations.stripe.types`) and every
SDK failure leaves as a falflow error, because stripe-python 16 objects are not dicts and its
exceptions carry HTTP details callers should not depend on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import stripe

from falflow.integrations.stripe.errors import (
    StripeObjectNotFoundError,
    StripeUnavailableError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from falflow.integrations.stripe.types import (
    ChargeState,
    CheckoutPack,
    CheckoutPurchase,
    CheckoutSessionRef,
    CheckoutSessionState,
    DisputeState,
    PaymentIntentState,
    StripeEvent,
)

logger = logging.getLogger("falflow.integrations.stripe")

# Oldest signature timestamp accepted, in seconds. Stripe's SDK treats 0 or None as
# "no replay check", so the gateway always passes this explicit positive value.
WEBHOOK_TOLERANCE_SECONDS = 300
API_VERSION = stripe.api_version


class StripeGateway:
    """Stripe calls falflow makes, with deterministic idempotency keys and typed results."""

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        max_network_retries: int = 2,
        timeout_seconds: float = 30.0,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is empty; set STRIPE_SECRET_KEY, or use sandbox mode")
        if not webhook_secret:
            raise ValueError("webhook_secret is empty; set STRIPE_WEBHOOK_SECRET to the endpoint's whsec_ value")
        self._webhook_secret = webhook_secret
        self.livemode = api_key.startswith(("sk_live_", "rk_live_"))
        self.api_base = api_base
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    def create_checkout_session(
        self,
        purchase: CheckoutPurchase,
        pack: CheckoutPack,
        *,
        success_url: str,
        cancel_url: str,
        customer_email: str | None,
    ) -> CheckoutSessionRef:
        """Create the hosted payment page for one purchase; a retry for the same purchase replays it.

        The price comes from the purchase row, which copied it from the server-side pack, so
        nothing the browser sent can change the amount.
        """
        metadata = {
            "purchase_id": str(purchase.id),
            "user_id": str(purchase.user_id),
            "pack_id": purchase.pack_id,
            "credits": str(purchase.credits),
        }
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": purchase.currency,
                        "unit_amount": purchase.amount_minor,
                        "product_data": {"name": pack.name, "description": f"{purchase.credits:,} falflow credits"},
                    },
                }
            ],
            "client_reference_id": str(purchase.id),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if customer_email:
            params["customer_email"] = customer_email
        idempotency_key = f"checkout:{purchase.id}"
        try:
            session = self._client.v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        except stripe.StripeError as exc:
            raise _gateway_error("create_checkout_session", str(purchase.id), exc) from None
        if not session.url:
            raise StripeUnavailableError(
                f"Stripe created Checkout Session {session.id} without a payment page URL; retry the purchase."
            )
        logger.info("stripe.checkout.created", extra={"purchase_id": str(purchase.id), "session_id": session.id})
        return CheckoutSessionRef(id=session.id, url=session.url)

    def retrieve_session(self, session_id: str) -> CheckoutSessionState:
        try:
            session = self._client.v1.checkout.sessions.retrieve(session_id, {"expand": ["payment_intent"]})
        except stripe.StripeError as exc:
            raise _gateway_error("retrieve_session", session_id, exc) from None
        return _session_state(session.to_dict())

    def retrieve_charge(self, charge_id: str) -> ChargeState:
        try:
            charge = self._client.v1.charges.retrieve(charge_id, {"expand": ["payment_intent"]})
        except stripe.StripeError as exc:
            raise _gateway_error("retrieve_charge", charge_id, exc) from None
        return _charge_state(charge.to_dict())

    def retrieve_dispute(self, dispute_id: str) -> DisputeState:
        try:
            dispute = self._client.v1.disputes.retrieve(dispute_id, {"expand": ["payment_intent"]})
        except stripe.StripeError as exc:
            raise _gateway_error("retrieve_dispute", dispute_id, exc) from None
        return _dispute_state(dispute.to_dict())

    def construct_event(self, raw: bytes, signature: str | None) -> StripeEvent:
        """Verify a webhook body against its `Stripe-Signature` header and parse it.

        Raises `WebhookSignatureError` for a missing, wrong or stale signature (older than
        `WEBHOOK_TOLERANCE_SECONDS`) and `WebhookPayloadError` for a signed body that is not
        a Stripe event.
        """
        try:
            event = self._client.construct_event(raw, signature, self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            raise WebhookSignatureError(
                "Stripe-Signature is missing, does not match the body, or is older than "
                f"{WEBHOOK_TOLERANCE_SECONDS} s; check that the endpoint's signing secret is configured."
            ) from None
        except ValueError:
            raise WebhookPayloadError("The webhook body is not a JSON Stripe event; nothing was processed.") from None
        return _event(event.to_dict(for_json=True))


def _gateway_error(operation: str, object_id: str, exc: stripe.StripeError) -> StripeUnavailableError:
    status = exc.http_status
    code = exc.code
    logger.warning(
        "stripe.request.failed",
        extra={"operation": operation, "object_id": object_id, "error_class": type(exc).__name__,
               "http_status": status, "stripe_code": code},
    )
    if isinstance(exc, stripe.InvalidRequestError) and status == 404:
        return StripeObjectNotFoundError(f"Stripe has no object '{object_id}' ({operation}); check the id and the API key's account.")
    if isinstance(exc, stripe.AuthenticationError):
        return StripeUnavailableError(f"Stripe rejected the API key during {operation}; check STRIPE_SECRET_KEY.")
    if isinstance(exc, stripe.IdempotencyError):
        return StripeUnavailableError(
            f"Stripe rejected {operation} for '{object_id}': the idempotency key was already used "
            "with different parameters."
        )
    return StripeUnavailableError(
        f"Stripe call {operation} for '{object_id}' failed ({type(exc).__name__}, HTTP {status}); retry in a minute."
    )


def _text_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): str(item) for key, item in value.items() if item is not None}


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _expanded_id(value: object) -> str | None:
    if isinstance(value, Mapping):
        return _optional_str(value.get("id"))
    return _optional_str(value)


def _payment_intent(value: object) -> PaymentIntentState | None:
    """Read an expanded PaymentIntent; an unexpanded id string yields None."""
    if not isinstance(value, Mapping):
        return None
    return PaymentIntentState(
        id=str(value["id"]),
        status=str(value.get("status") or ""),
        amount=int(value.get("amount") or 0),
        currency=str(value.get("currency") or ""),
        metadata=_text_map(value.get("metadata")),
        latest_charge=_expanded_id(value.get("latest_charge")),
    )


def _session_state(data: Mapping[str, Any]) -> CheckoutSessionState:
    amount_total = data.get("amount_total")
    return CheckoutSessionState(
        id=str(data["id"]),
        status=_optional_str(data.get("status")),
        payment_status=str(data.get("payment_status") or ""),
        client_reference_id=_optional_str(data.get("client_reference_id")),
        amount_total=int(amount_total) if amount_total is not None else None,
        currency=_optional_str(data.get("currency")),
        livemode=bool(data.get("livemode")),
        metadata=_text_map(data.get("metadata")),
        payment_intent=_payment_intent(data.get("payment_intent")),
    )


def _charge_state(data: Mapping[str, Any]) -> ChargeState:
    return ChargeState(
        id=str(data["id"]),
        amount=int(data.get("amount") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        currency=str(data.get("currency") or ""),
        paid=bool(data.get("paid")),
        status=str(data.get("status") or ""),
        livemode=bool(data.get("livemode")),
        payment_intent=_payment_intent(data.get("payment_intent")),
    )


def _dispute_state(data: Mapping[str, Any]) -> DisputeState:
    return DisputeState(
        id=str(data["id"]),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or ""),
        status=str(data.get("status") or ""),
        charge_id=_expanded_id(data.get("charge")),
        livemode=bool(data.get("livemode")),
        payment_intent=_payment_intent(data.get("payment_intent")),
    )


def _event(data: Mapping[str, Any]) -> StripeEvent:
    event_id = data.get("id")
    event_type = data.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise WebhookPayloadError("The webhook body has no event 'id' or 'type'; nothing was processed.")
    body = data.get("data")
    obj = body.get("object") if isinstance(body, Mapping) else None
    return StripeEvent(
        id=event_id,
        type=event_type,
        livemode=bool(data.get("livemode")),
        api_version=_optional_str(data.get("api_version")),
        created=int(data.get("created") or 0),
        object_id=_expanded_id(obj),
        payload=dict(data),
    )
