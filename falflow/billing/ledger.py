"""Credit movements: postings, run holds, node charges and releases.

Every function takes the caller's session and flushes; the caller commits. The hold is one
guarded UPDATE (`balance - reserved >= amount`), which is race-free on PostgreSQL under READ
COMMITTED and on SQLite because falflow's write transactions begin IMMEDIATE. Each posting
carries a unique idempotency key, so a retried webhook, worker or request moves money once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from falflow.billing.models import CreditAccount, CreditReservation, LedgerEntry, LedgerKind, ReservationStatus
from falflow.kit.errors import PaymentRequiredError
from falflow.kit.timeutil import utcnow

logger = logging.getLogger("falflow.billing")

# Hot paths write through Core statements on the tables, because in a profile the ORM's UPDATE
# path (which also refreshes copies loaded in the session) cost more than the statement itself.
# The account is therefore read with `populate_existing`, and a loaded reservation gets the new values.
_ACCOUNTS = CreditAccount.__table__  # type: ignore[attr-defined]
_RESERVATIONS = CreditReservation.__table__  # type: ignore[attr-defined]
_ENTRIES = LedgerEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CreditSummary:
    balance: int
    reserved: int

    @property
    def available(self) -> int:
        return self.balance - self.reserved


def open_credit_account(session: Session, user_id: uuid.UUID, *, starter_grant: int) -> None:
    """Create the user's credit account, with a starter grant posted like any other entry."""
    session.add(CreditAccount(user_id=user_id))
    session.flush()
    if starter_grant > 0:
        post_entry(
            session,
            user_id=user_id,
            amount=starter_grant,
            kind=LedgerKind.GRANT,
            idempotency_key=f"grant:starter:{user_id}",
            memo="Starter credits",
        )


def get_credit_summary(session: Session, user_id: uuid.UUID) -> CreditSummary:
    account = session.get(CreditAccount, user_id, populate_existing=True)
    if account is None:
        return CreditSummary(0, 0)
    return CreditSummary(account.balance, account.reserved)


def post_entry(
    session: Session,
    *,
    user_id: uuid.UUID,
    amount: int,
    kind: LedgerKind,
    idempotency_key: str,
    memo: str = "",
    run_id: uuid.UUID | None = None,
    reservation_id: uuid.UUID | None = None,
    purchase_id: uuid.UUID | None = None,
    node_id: str | None = None,
    endpoint_id: str | None = None,
    external_ref: str | None = None,
    reserved_delta: int = 0,
) -> int | None:
    """Move `amount` credits (signed) and record it; return the entry's id, or None when the key was already posted."""
    if amount == 0:
        raise ValueError("a ledger entry needs a non-zero amount")
    existing = session.execute(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == idempotency_key)).first()
    if existing is not None:
        return None
    try:
        with session.begin_nested():
            balance_after = session.execute(
                update(_ACCOUNTS)
                .where(_ACCOUNTS.c.user_id == user_id)
                .values(
                    balance=_ACCOUNTS.c.balance + amount,
                    reserved=_ACCOUNTS.c.reserved + reserved_delta,
                    updated_at=utcnow(),
                )
                .returning(_ACCOUNTS.c.balance)
            ).scalar_one()
            entry_id = session.execute(
                insert(_ENTRIES)
                .values(
                    user_id=user_id,
                    amount=amount,
                    kind=kind.value,
                    balance_after=balance_after,
                    idempotency_key=idempotency_key,
                    memo=memo,
                    run_id=run_id,
                    reservation_id=reservation_id,
                    purchase_id=purchase_id,
                    node_id=node_id,
                    endpoint_id=endpoint_id,
                    external_ref=external_ref,
                    created_at=utcnow(),
                )
                .returning(_ENTRIES.c.id)
            ).scalar_one()
    except IntegrityError:
        # A concurrent transaction posted the same key first, so its entry is kept and this one is dropped.
        return None
    logger.info("billing.ledger.posted", extra={"user_id": str(user_id), "kind": kind.value, "amount": amount})
    return int(entry_id)


@dataclass(frozen=True)
class Hold:
    """A run's credit reservation as `reserve_credits` created it."""

    id: uuid.UUID
    user_id: uuid.UUID
    run_id: uuid.UUID
    amount: int


def reserve_credits(session: Session, *, user_id: uuid.UUID, run_id: uuid.UUID, amount: int) -> Hold:
    """Hold `amount` credits for a run, or raise 402 with the required and available amounts."""
    if amount < 0:
        raise ValueError("a hold cannot be negative")
    result = session.execute(
        update(_ACCOUNTS)
        .where(_ACCOUNTS.c.user_id == user_id, _ACCOUNTS.c.balance - _ACCOUNTS.c.reserved >= amount)
        .values(reserved=_ACCOUNTS.c.reserved + amount, updated_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        summary = get_credit_summary(session, user_id)
        raise _insufficient_credits(amount, summary)
    hold = Hold(id=uuid.uuid4(), user_id=user_id, run_id=run_id, amount=amount)
    session.execute(insert(_RESERVATIONS), [{
        "id": hold.id, "user_id": user_id, "run_id": run_id, "amount": amount, "charged": 0,
        "status": ReservationStatus.HELD.value, "created_at": utcnow(),
    }])
    return hold


def _insufficient_credits(required: int, summary: CreditSummary) -> PaymentRequiredError:
    extra = {"required": required, "available": summary.available, "balance": summary.balance}
    if summary.balance < 0:
        return PaymentRequiredError(
            f"Your credit balance is {summary.balance} after a refund or dispute took back credits you had "
            f"already spent; buy a credit pack to bring it above zero before running (this run needs {required}).",
            extra=extra,
        )
    return PaymentRequiredError(
        f"This run needs {required} credits but {summary.available} are available; buy a credit pack "
        "or make the workflow cheaper (fewer images, smaller sizes).",
        extra=extra,
    )


def _lock_reservation(session: Session, reservation_id: uuid.UUID) -> Row[Any] | None:
    # A Core read, not an ORM object: a copy already in the session could predate the lock,
    # and a stale `status` or `charged` would let a hold be released or charged twice.
    return session.execute(
        select(_RESERVATIONS.c.user_id, _RESERVATIONS.c.run_id, _RESERVATIONS.c.amount, _RESERVATIONS.c.charged,
               _RESERVATIONS.c.status)
        .where(_RESERVATIONS.c.id == reservation_id)
        .with_for_update()
    ).first()


def _sync_loaded_reservation(session: Session, reservation_id: uuid.UUID, **values: Any) -> None:
    """Give a reservation loaded in this session the values a Core UPDATE just wrote."""
    loaded = session.identity_map.get(identity_key(CreditReservation, reservation_id))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)


def charge_reservation(
    session: Session,
    *,
    reservation_id: uuid.UUID,
    amount: int,
    idempotency_key: str,
    node_id: str | None = None,
    endpoint_id: str | None = None,
    memo: str = "",
) -> int:
    """Charge up to `amount` from a held reservation; return the credits actually charged.

    The charge never exceeds what is left of the hold, so a user never pays more than the
    estimate they accepted. A repeated key or a closed reservation charges nothing.
    """
    reservation = _lock_reservation(session, reservation_id)
    if reservation is None or reservation.status != ReservationStatus.HELD.value or amount <= 0:
        return 0
    charge = min(amount, reservation.amount - reservation.charged)
    if charge <= 0:
        return 0
    entry_id = post_entry(
        session,
        user_id=reservation.user_id,
        amount=-charge,
        kind=LedgerKind.RUN_CHARGE,
        idempotency_key=idempotency_key,
        memo=memo,
        run_id=reservation.run_id,
        reservation_id=reservation_id,
        node_id=node_id,
        endpoint_id=endpoint_id,
        reserved_delta=-charge,
    )
    if entry_id is None:
        return 0
    charged = session.execute(
        update(_RESERVATIONS).where(_RESERVATIONS.c.id == reservation_id)
        .values(charged=_RESERVATIONS.c.charged + charge).returning(_RESERVATIONS.c.charged)
    ).scalar_one()
    _sync_loaded_reservation(session, reservation_id, charged=charged)
    return charge


def release_reservation(session: Session, *, reservation_id: uuid.UUID) -> int:
    """Close a hold and return its unspent credits to the available balance; idempotent.

    One guarded UPDATE closes the hold, so a second release (or a stale caller) finds it closed.
    """
    closed_at = utcnow()
    closed = session.execute(
        update(_RESERVATIONS)
        .where(_RESERVATIONS.c.id == reservation_id, _RESERVATIONS.c.status == ReservationStatus.HELD.value)
        .values(
            status=case((_RESERVATIONS.c.charged > 0, ReservationStatus.SETTLED.value), else_=ReservationStatus.RELEASED.value),
            closed_at=closed_at,
        )
        .returning(_RESERVATIONS.c.user_id, _RESERVATIONS.c.amount, _RESERVATIONS.c.charged, _RESERVATIONS.c.status)
    ).first()
    if closed is None:
        return 0
    remainder = closed.amount - closed.charged
    if remainder:
        session.execute(
            update(_ACCOUNTS)
            .where(_ACCOUNTS.c.user_id == closed.user_id)
            .values(reserved=_ACCOUNTS.c.reserved - remainder, updated_at=closed_at)
        )
    _sync_loaded_reservation(session, reservation_id, status=closed.status, closed_at=closed_at)
    return remainder


def find_ledger_violations(session: Session) -> list[str]:
    """Return a description of every account whose cached figures disagree with the ledger."""
    problems: list[str] = []
    sums = dict(session.execute(select(LedgerEntry.user_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.user_id)).all())
    held = dict(
        session.execute(
            select(CreditReservation.user_id, func.sum(CreditReservation.amount - CreditReservation.charged))
            .where(CreditReservation.status == ReservationStatus.HELD.value)  # type: ignore[arg-type]
            .group_by(CreditReservation.user_id)
        ).all()
    )
    for account in session.execute(select(CreditAccount).execution_options(populate_existing=True)).scalars():
        ledger_sum = int(sums.get(account.user_id) or 0)
        if account.balance != ledger_sum:
            problems.append(f"user {account.user_id}: balance {account.balance} != ledger sum {ledger_sum}")
        held_sum = int(held.get(account.user_id) or 0)
        if account.reserved != held_sum:
            problems.append(f"user {account.user_id}: reserved {account.reserved} != unspent holds {held_sum}")
        if account.reserved < 0:
            problems.append(f"user {account.user_id}: reserved is negative ({account.reserved})")
    return problems
