"""Tables for buying credits: the server-side pack catalog, purchases and the Stripe event inbox.

Money is in integer minor units of `currency` (cents for USD); credits are integers
(1 credit = US$0.001). Prices live only here: a client names a pack, never an amount.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, String
from sqlmodel import Field, SQLModel

from falflow.kit.timeutil import UTCDateTime, utcnow


class CreditPack(SQLModel, table=True):
    __tablename__ = "credit_pack"
    __table_args__ = (CheckConstraint("credits > 0 AND amount_minor > 0", name="ck_credit_pack_positive"),)

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    active: bool = Field(default=True)
    sort_order: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PurchaseStatus(str, enum.Enum):
    PENDING = "pending"  # session created, nothing paid yet
    PROCESSING = "processing"  # completed with a delayed payment method; waiting for its outcome
    PAID = "paid"
    FAILED = "failed"  # the delayed payment failed, or Stripe could not create the session
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"  # a chargeback is open or was lost


# Statuses of a purchase whose credits were posted to the ledger.
CREDITED_STATUSES = frozenset(
    {PurchaseStatus.PAID, PurchaseStatus.PARTIALLY_REFUNDED, PurchaseStatus.REFUNDED, PurchaseStatus.DISPUTED}
)


class Purchase(SQLModel, table=True):
    """One attempt to buy a pack; it copies the pack's price so later catalog edits do not change it."""

    __tablename__ = "purchase"
    __table_args__ = (
        CheckConstraint("credits > 0 AND amount_minor > 0", name="ck_purchase_positive"),
        CheckConstraint(
            "amount_refunded_minor >= 0 AND amount_refunded_minor <= amount_minor", name="ck_purchase_refunded_range"
        ),
        Index("ix_purchase_user_created", "user_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")
    pack_id: str = Field(foreign_key="credit_pack.id", max_length=64)
    credits: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    status: str = Field(default=PurchaseStatus.PENDING.value, max_length=24, index=True)
    stripe_checkout_session_id: str | None = Field(default=None, max_length=255, unique=True)
    stripe_payment_intent_id: str | None = Field(default=None, max_length=255, unique=True)
    stripe_charge_id: str | None = Field(default=None, max_length=255)
    stripe_dispute_id: str | None = Field(default=None, max_length=255)
    dispute_status: str | None = Field(default=None, max_length=40)
    # Cumulative refunded amount already clawed back, in minor units; Stripe reports it the same way.
    amount_refunded_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    failure_reason: str | None = Field(default=None, max_length=500)
    credited_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class StripeEventStatus(str, enum.Enum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"  # not a type falflow handles, not falflow's object, or failed a consistency check
    PENDING_DEPENDENCY = "pending_dependency"  # names a purchase this database does not have (yet)
    FAILED = "failed"  # processing raised; Stripe retries the delivery


# Statuses after which a redelivery of the same event id changes nothing.
FINAL_EVENT_STATUSES = frozenset({StripeEventStatus.PROCESSED, StripeEventStatus.IGNORED})


class StripeEventRecord(SQLModel, table=True):
    """The webhook inbox: one row per Stripe event id, written in the transaction of its effects."""

    __tablename__ = "stripe_event"
    __table_args__ = (Index("ix_stripe_event_status_received", "status", "received_at"),)

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    livemode: bool = Field(default=False)
    api_version: str | None = Field(default=None, max_length=64)
    stripe_created: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    status: str = Field(default=StripeEventStatus.RECEIVED.value, max_length=24)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(String(1000), nullable=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
