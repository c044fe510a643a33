"""SQL for purchases; services call these with their session and never write queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from falflow.billing.purchase_models import Purchase, PurchaseStatus
from falflow.kit.timeutil import utcnow


def add_purchase(session: Session, purchase: Purchase) -> None:
    session.add(purchase)
    session.flush()


def get_purchase(session: Session, purchase_id: uuid.UUID) -> Purchase | None:
    return session.get(Purchase, purchase_id, populate_existing=True)


def lock_purchase(session: Session, purchase_id: uuid.UUID) -> Purchase | None:
    """Read a purchase with a row lock (FOR UPDATE on PostgreSQL; SQLite writers are serialised)."""
    statement = select(Purchase).where(col(Purchase.id) == purchase_id).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).first()


def get_user_purchase(session: Session, user_id: uuid.UUID, purchase_id: uuid.UUID) -> Purchase | None:
    statement = select(Purchase).where(col(Purchase.id) == purchase_id, col(Purchase.user_id) == user_id)
    return session.exec(statement).first()


def get_user_purchase_by_session(session: Session, user_id: uuid.UUID, checkout_session_id: str) -> Purchase | None:
    statement = select(Purchase).where(
        col(Purchase.stripe_checkout_session_id) == checkout_session_id, col(Purchase.user_id) == user_id
    )
    return session.exec(statement).first()


def list_user_purchases(session: Session, user_id: uuid.UUID, *, limit: int, offset: int) -> list[Purchase]:
    statement = (
        select(Purchase)
        .where(col(Purchase.user_id) == user_id)
        .order_by(col(Purchase.created_at).desc(), col(Purchase.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.exec(statement).all())


def count_user_purchases_since(session: Session, user_id: uuid.UUID, since: datetime) -> int:
    statement = select(func.count()).select_from(Purchase).where(
        col(Purchase.user_id) == user_id, col(Purchase.created_at) >= since
    )
    return int(session.exec(statement).one())


def transition_status(
    session: Session,
    purchase_id: uuid.UUID,
    *,
    from_statuses: Iterable[PurchaseStatus],
    to_status: PurchaseStatus,
    **values: Any,
) -> bool:
    """Move a purchase to `to_status` only if it is in one of `from_statuses`; True when it moved."""
    allowed = [status.value for status in from_statuses]
    result = session.execute(
        update(Purchase)
        .where(col(Purchase.id) == purchase_id, col(Purchase.status).in_(allowed))
        .values(status=to_status.value, updated_at=utcnow(), **values)
    )
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def save(session: Session, purchase: Purchase) -> None:
    purchase.updated_at = utcnow()
    session.add(purchase)
    session.flush()
