"""The user's credit history: ledger entries merged with run holds and their releases.

Holds and releases are not ledger entries (they move `reserved`, not `balance`), but users
need them to follow a run's cost, so they appear as their own kinds. Rows are newest first;
ties on the timestamp are broken by a stable row key so pages never overlap.

Signs: for ledger kinds, `amount` is the change to the balance. For `hold` it is minus the
credits set aside, and for `release` it is the credits returned to the available amount.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import BigInteger, Select, String, Subquery, Uuid, cast, literal, null, select, union_all
from sqlmodel import Session, col

from falflow.billing.models import CreditReservation, LedgerEntry, ReservationStatus

_AnySelect = Select[Unpack[tuple[Any, ...]]]

HOLD_KIND = "hold"
RELEASE_KIND = "release"
CSV_COLUMNS = ("created_at", "kind", "amount", "balance_after", "run_id", "node_id", "model", "purchase_id",
               "external_ref", "memo", "id")
# Characters that make spreadsheet programs treat a cell as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class HistoryItem:
    id: str
    kind: str
    created_at: datetime
    amount: int
    balance_after: int | None
    run_id: uuid.UUID | None
    node_id: str | None
    model: str | None
    purchase_id: uuid.UUID | None
    external_ref: str | None
    memo: str


def _history_query(user_id: uuid.UUID, run_id: uuid.UUID | None) -> Subquery:
    entry_filters = [col(LedgerEntry.user_id) == user_id]
    hold_filters = [col(CreditReservation.user_id) == user_id]
    if run_id is not None:
        entry_filters.append(col(LedgerEntry.run_id) == run_id)
        hold_filters.append(col(CreditReservation.run_id) == run_id)
    entries: _AnySelect = select(
        (literal("entry:") + cast(LedgerEntry.id, String)).label("row_key"),
        col(LedgerEntry.kind).label("kind"),
        col(LedgerEntry.created_at).label("created_at"),
        col(LedgerEntry.amount).label("amount"),
        col(LedgerEntry.balance_after).label("balance_after"),
        col(LedgerEntry.run_id).label("run_id"),
        col(LedgerEntry.node_id).label("node_id"),
        col(LedgerEntry.endpoint_id).label("model"),
        col(LedgerEntry.purchase_id).label("purchase_id"),
        col(LedgerEntry.external_ref).label("external_ref"),
        col(LedgerEntry.memo).label("memo"),
    ).where(*entry_filters)
    holds: _AnySelect = select(
        (literal("hold:") + cast(CreditReservation.id, String)).label("row_key"),
        literal(HOLD_KIND).label("kind"),
        col(CreditReservation.created_at).label("created_at"),
        (-col(CreditReservation.amount)).label("amount"),
        cast(null(), BigInteger).label("balance_after"),
        col(CreditReservation.run_id).label("run_id"),
        cast(null(), String).label("node_id"),
        cast(null(), String).label("model"),
        cast(null(), Uuid).label("purchase_id"),
        cast(null(), String).label("external_ref"),
        literal("Credits held for a run").label("memo"),
    ).where(*hold_filters, col(CreditReservation.amount) > 0)
    closed = col(CreditReservation.status).in_([ReservationStatus.RELEASED.value, ReservationStatus.SETTLED.value])
    releases: _AnySelect = select(
        (literal("release:") + cast(CreditReservation.id, String)).label("row_key"),
        literal(RELEASE_KIND).label("kind"),
        col(CreditReservation.closed_at).label("created_at"),
        (col(CreditReservation.amount) - col(CreditReservation.charged)).label("amount"),
        cast(null(), BigInteger).label("balance_after"),
        col(CreditReservation.run_id).label("run_id"),
        cast(null(), String).label("node_id"),
        cast(null(), String).label("model"),
        cast(null(), Uuid).label("purchase_id"),
        cast(null(), String).label("external_ref"),
        literal("Unused held credits returned").label("memo"),
    ).where(
        *hold_filters,
        closed,
        col(CreditReservation.closed_at).is_not(None),
        col(CreditReservation.amount) > col(CreditReservation.charged),
    )
    return union_all(entries, holds, releases).subquery("history")


def list_history(
    session: Session, user_id: uuid.UUID, *, limit: int, offset: int, run_id: uuid.UUID | None = None
) -> list[HistoryItem]:
    """Return one page of the user's history, newest first."""
    history = _history_query(user_id, run_id)
    statement = (
        select(history)
        .order_by(history.c.created_at.desc(), history.c.row_key.desc())
        .limit(limit)
        .offset(offset)
    )
    items: list[HistoryItem] = []
    for row in session.execute(statement).mappings():
        items.append(
            HistoryItem(
                id=row["row_key"],
                kind=row["kind"],
                created_at=row["created_at"],
                amount=int(row["amount"]),
                balance_after=row["balance_after"],
                run_id=row["run_id"],
                node_id=row["node_id"],
                model=row["model"],
                purchase_id=row["purchase_id"],
                external_ref=row["external_ref"],
                memo=row["memo"] or "",
            )
        )
    return items


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def history_csv_lines(session: Session, user_id: uuid.UUID, *, page_size: int = 500) -> Iterator[str]:
    """Yield the whole history as CSV text, header first, one page of rows per query."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    offset = 0
    while True:
        page = list_history(session, user_id, limit=page_size, offset=offset)
        for item in page:
            writer.writerow([_cell(item.created_at), _cell(item.kind), _cell(item.amount), _cell(item.balance_after),
                             _cell(item.run_id), _cell(item.node_id), _cell(item.model), _cell(item.purchase_id),
                             _cell(item.external_ref), _cell(item.memo), _cell(item.id)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(page) < page_size:
            return
        offset += page_size
