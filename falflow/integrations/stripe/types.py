"""Plain typed views of the Stripe objects falflow reads, free of the `stripe` package.

The gateway converts SDK objects into these, so billing code and its tests depend on our
types only. Money is in integer minor units (cents for USD); `metadata` values are strings,
as Stripe stores them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class CheckoutPurchase(Protocol):
    """The purchase fields a Checkout Session is built from."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def pack_id(self) -> str: ...

    @property
    def credits(self) -> int: ...

    @property
    def amount_minor(self) -> int: ...

    @property
    def currency(self) -> str: ...


class CheckoutPack(Protocol):
    """The pack fields shown on the hosted payment page."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class CheckoutSessionRef:
    """A created Checkout Session: its id and the hosted page the browser goes to."""

    id: str
    url: str


@dataclass(frozen=True)
class PaymentIntentState:
    id: str
    status: str
    amount: int
    currency: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    latest_charge: str | None = None


@dataclass(frozen=True)
class CheckoutSessionState:
    id: str
    status: str | None
    payment_status: str
    client_reference_id: str | None
    amount_total: int | None
    currency: str | None
    livemode: bool
    metadata: Mapping[str, str] = field(default_factory=dict)
    payment_intent: PaymentIntentState | None = None


@dataclass(frozen=True)
class ChargeState:
    id: str
    amount: int
    amount_refunded: int
    currency: str
    paid: bool
    status: str
    livemode: bool
    payment_intent: PaymentIntentState | None = None


@dataclass(frozen=True)
class DisputeState:
    id: str
    amount: int
    currency: str
    status: str
    charge_id: str | None
    livemode: bool
    payment_intent: PaymentIntentState | None = None

    @property
    def is_inquiry(self) -> bool:
        """Whether this is an inquiry (`warning_*` status), for which no funds move."""
        return self.status.startswith("warning_")


@dataclass(frozen=True)
class StripeEvent:
    """A verified webhook event; `payload` is the whole event as JSON-compatible data."""

    id: str
    type: str
    livemode: bool
    api_version: str | None
    created: int
    object_id: str | None
    payload: Mapping[str, Any]
