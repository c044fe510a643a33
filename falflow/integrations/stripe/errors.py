"""Errors raised by the Stripe gateway, as falflow errors with their HTTP status."""

from __future__ import annotations

from falflow.kit.errors import BadRequestError, ServiceUnavailableError


class StripeUnavailableError(ServiceUnavailableError):
    """Stripe could not be reached or rejected the call; the same call may succeed later."""

    error_type = "payment_provider_unavailable"


class StripeObjectNotFoundError(StripeUnavailableError):
    """Stripe has no object with the requested id (a deleted object, or a wrong account or key)."""

    error_type = "payment_object_not_found"


class WebhookSignatureError(BadRequestError):
    """A webhook whose `Stripe-Signature` is missing, wrong or older than the tolerance."""

    error_type = "invalid_signature"


class WebhookPayloadError(BadRequestError):
    """A correctly signed webhook body that is not a Stripe event."""

    error_type = "invalid_payload"
