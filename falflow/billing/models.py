"""Credit tables: the cached account row, the append-only ledger and run holds.

1 credit = US$0.001, stored as integers. `credit_account.balance` always equals the sum of
the user's ledger entries, and `reserved` equals the unspent part of their held reservations;
`falflow.billing.ledger.find_ledger_violations` checks both.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, String
from sqlmodel import Field, SQLModel

from falflow.kit.timeutil import UTCDateTime, utcnow


class CreditAccount(SQLModel, table=True):
    __tablename__ = "credit_account"
    __table_args__ = (CheckConstraint("reserved >= 0", name="ck_credit_account_reserved_non_negative"),)

    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    # May go negative through refund or dispute clawbacks only; runs then need a top-up.
    balance: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    reserved: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class LedgerKind(str, enum.Enum):
    GRANT = "grant"
    PURCHASE = "purchase"
    RUN_CHARGE = "run_charge"
    REFUND_CLAWBACK = "refund_clawback"
    DISPUTE_CLAWBACK = "dispute_clawback"
    DISPUTE_REVERSAL = "dispute_reversal"
    ADJUSTMENT = "adjustment"


class LedgerEntry(SQLModel, table=True):
    """One movement of credits; never updated or deleted once written."""

    __tablename__ = "ledger_entry"
    __table_args__ = (CheckConstraint("amount <> 0", name="ck_ledger_entry_amount_non_zero"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    idempotency_key: str = Field(max_length=200, unique=True)
    run_id: uuid.UUID | None = Field(default=None, index=True)
    reservation_id: uuid.UUID | None = Field(default=None)
    purchase_id: uuid.UUID | None = Field(default=None, index=True)
    node_id: str | None = Field(default=None, max_length=100)
    endpoint_id: str | None = Field(default=None, max_length=200)
    external_ref: str | None = Field(default=None, max_length=200)
    memo: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ReservationStatus(str, enum.Enum):
    HELD = "held"
    SETTLED = "settled"
    RELEASED = "released"


class CreditReservation(SQLModel, table=True):
    """Credits held for one run; node charges draw on it and the rest is released at the end."""

    __tablename__ = "credit_reservation"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="ck_credit_reservation_amount"),
        CheckConstraint("charged >= 0 AND charged <= amount", name="ck_credit_reservation_charged"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    run_id: uuid.UUID = Field(unique=True)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    charged: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    status: str = Field(default=ReservationStatus.HELD.value, max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
