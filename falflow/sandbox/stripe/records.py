"""The stand-in's in-memory Stripe objects, one mutable record per object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SESSION_TTL_SECONDS = 24 * 3600


@dataclass
class LineItemRecord:
    name: str
    description: str | None
    unit_amount: int
    quantity: int


@dataclass
class SessionRecord:
    id: str
    created: int
    expires_at: int
    currency: str
    line_items: list[LineItemRecord]
    metadata: dict[str, str]
    payment_intent_metadata: dict[str, str]
    client_reference_id: str | None
    customer_email: str | None
    success_url: str
    cancel_url: str | None
    status: str = "open"
    payment_status: str = "unpaid"
    payment_intent: str | None = None

    @property
    def amount_total(self) -> int:
        return sum(item.unit_amount * item.quantity for item in self.line_items)


@dataclass
class PaymentIntentRecord:
    id: str
    created: int
    amount: int
    currency: str
    metadata: dict[str, str]
    status: str
    latest_charge: str | None = None


@dataclass
class ChargeRecord:
    id: str
    created: int
    amount: int
    currency: str
    payment_intent: str
    amount_refunded: int = 0
    disputed: bool = False
    dispute: str | None = None

    @property
    def refunded(self) -> bool:
        return self.amount_refunded >= self.amount


@dataclass
class DisputeRecord:
    id: str
    created: int
    charge: str
    payment_intent: str
    amount: int
    currency: str
    status: str
    reason: str = "fraudulent"


@dataclass
class EventRecord:
    """An event with the object snapshot taken when it happened, as Stripe sends it."""

    id: str
    type: str
    created: int
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None
    held: bool = False
    delivery_attempts: int = 0
    delivery_success: bool | None = None


@dataclass
class IdempotentResult:
    """A remembered POST: the parameters it carried and the response it produced."""

    fingerprint: tuple[tuple[str, str], ...]
    status_code: int
    body: dict[str, Any]
