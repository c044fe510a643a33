"""Read queries on the ledger that billing services need besides `falflow.billing.ledger`."""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlmodel import Session, col, select

from falflow.billing.models import LedgerEntry, LedgerKind


def find_entry_by_key(session: Session, idempotency_key: str) -> LedgerEntry | None:
    statement = select(LedgerEntry).where(col(LedgerEntry.idempotency_key) == idempotency_key)
    return session.exec(statement).first()


def sum_purchase_entries(session: Session, purchase_id: uuid.UUID, kind: LedgerKind) -> int:
    """Return the signed sum of `kind` entries posted for one purchase (0 when there are none)."""
    statement = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        col(LedgerEntry.purchase_id) == purchase_id, col(LedgerEntry.kind) == kind.value
    )
    return int(session.exec(statement).one())
