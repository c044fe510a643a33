"""SQL for the Stripe webhook inbox (`stripe_event`), keyed by Stripe's event id.

`claim_event` is the deduplication point: it inserts or row-locks the event's row inside the
caller's transaction, so of two concurrent deliveries one waits for the other and then reads
its final status. On PostgreSQL the second INSERT blocks on the primary key until the first
transaction ends; on SQLite falflow's write transactions are serialised by BEGIN IMMEDIATE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from falflow.billing.purchase_models import FINAL_EVENT_STATUSES, StripeEventRecord, StripeEventStatus
from falflow.integrations.stripe.types import StripeEvent
from falflow.kit.timeutil import utcnow

_MAX_ERROR_CHARS = 1000


def get_event(session: Session, event_id: str) -> StripeEventRecord | None:
    return session.get(StripeEventRecord, event_id, populate_existing=True)


def _lock_event(session: Session, event_id: str) -> StripeEventRecord | None:
    statement = select(StripeEventRecord).where(col(StripeEventRecord.id) == event_id).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).first()


def _new_record(event: StripeEvent) -> StripeEventRecord:
    return StripeEventRecord(
        id=event.id, type=event.type, livemode=event.livemode, api_version=event.api_version,
        stripe_created=event.created, payload=dict(event.payload),
    )


def claim_event(session: Session, event: StripeEvent) -> StripeEventRecord | None:
    """Lock the event's inbox row, inserting it if new; None when it was already handled."""
    record = _lock_event(session, event.id)
    if record is None:
        try:
            with session.begin_nested():
                session.add(_new_record(event))
        except IntegrityError:
            pass  # a concurrent delivery inserted it first; its row is read below
        record = _lock_event(session, event.id)
        if record is None:
            raise LookupError(f"stripe_event row {event.id} is missing right after its insert")
    if StripeEventStatus(record.status) in FINAL_EVENT_STATUSES:
        return None
    record.attempts += 1
    session.add(record)
    session.flush()
    return record


def finish_event(session: Session, record: StripeEventRecord, status: StripeEventStatus, note: str | None) -> None:
    record.status = status.value
    record.last_error = note[:_MAX_ERROR_CHARS] if note and status is not StripeEventStatus.PROCESSED else None
    record.processed_at = utcnow()
    session.add(record)
    session.flush()


def record_failure(session: Session, event: StripeEvent, error: str) -> None:
    """Store a failed attempt (after its transaction rolled back) so operators can see it."""
    record = _lock_event(session, event.id)
    if record is None:
        record = _new_record(event)
    elif StripeEventStatus(record.status) in FINAL_EVENT_STATUSES:
        return
    record.status = StripeEventStatus.FAILED.value
    record.attempts += 1
    record.last_error = error[:_MAX_ERROR_CHARS]
    session.add(record)
    session.flush()


def list_unfinished_events(session: Session, *, received_before: datetime, limit: int = 100) -> list[StripeEventRecord]:
    """Return events still waiting (received, failed or pending_dependency) that arrived before a time."""
    unfinished = [s.value for s in StripeEventStatus if s not in FINAL_EVENT_STATUSES]
    statement = (
        select(StripeEventRecord)
        .where(col(StripeEventRecord.status).in_(unfinished), col(StripeEventRecord.received_at) < received_before)
        .order_by(col(StripeEventRecord.received_at))
        .limit(limit)
    )
    return list(session.exec(statement).all())
