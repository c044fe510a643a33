"""Purchase-level and inbox invariants, checked next to the account-level ledger invariants.

1. A credited purchase (paid, partially refunded, refunded, disputed) has exactly one
   `purchase` ledger entry, for its credits; any other purchase has none.
2. A purchase's refund clawbacks add up to `floor(credits * amount_refunded / amount)`.
3. Every Stripe event received more than an hour ago is processed or ignored.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from falflow.billing.ledger import find_ledger_violations
from falflow.billing.models import LedgerEntry, LedgerKind
from falflow.billing.purchase_models import CREDITED_STATUSES, Purchase, PurchaseStatus
from falflow.billing import event_inbox
from falflow.kit.timeutil import utcnow

STALE_EVENT_AGE = timedelta(hours=1)


def _entries_by_purchase(session: Session, kind: LedgerKind) -> dict[uuid.UUID, tuple[int, int]]:
    statement = (
        select(LedgerEntry.purchase_id, func.count(), func.sum(LedgerEntry.amount))
        .where(col(LedgerEntry.kind) == kind.value, col(LedgerEntry.purchase_id).is_not(None))
        .group_by(col(LedgerEntry.purchase_id))
    )
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in session.exec(statement).all() if row[0] is not None}


def find_purchase_violations(session: Session) -> list[str]:
    """Describe every purchase whose ledger entries disagree with its status or refunds."""
    problems: list[str] = []
    purchases_entries = _entries_by_purchase(session, LedgerKind.PURCHASE)
    refund_entries = _entries_by_purchase(session, LedgerKind.REFUND_CLAWBACK)
    for purchase in session.exec(select(Purchase)).all():
        count, total = purchases_entries.get(purchase.id, (0, 0))
        credited = PurchaseStatus(purchase.status) in CREDITED_STATUSES
        if credited and (count != 1 or total != purchase.credits):
            problems.append(
                f"purchase {purchase.id} ({purchase.status}): {count} purchase entries totalling {total}, "
                f"expected exactly one of {purchase.credits}"
            )
        if not credited and count:
            problems.append(f"purchase {purchase.id} ({purchase.status}) was never paid but has {count} purchase entries")
        expected_clawback = purchase.credits * purchase.amount_refunded_minor // purchase.amount_minor
        _, clawed = refund_entries.get(purchase.id, (0, 0))
        if -clawed != expected_clawback:
            problems.append(
                f"purchase {purchase.id}: refund clawbacks total {-clawed} credits, expected {expected_clawback} "
                f"for {purchase.amount_refunded_minor} of {purchase.amount_minor} refunded"
            )
    return problems


def find_inbox_violations(session: Session) -> list[str]:
    stale = event_inbox.list_unfinished_events(session, received_before=utcnow() - STALE_EVENT_AGE, limit=1000)
    return [
        f"stripe event {record.id} ({record.type}) is still {record.status} after {record.attempts} attempts: "
        f"{record.last_error or 'no error recorded'}"
        for record in stale
    ]


def find_billing_violations(session: Session) -> list[str]:
    """Run every billing invariant: account balances and holds, purchases, and the event inbox."""
    return find_ledger_violations(session) + find_purchase_violations(session) + find_inbox_violations(session)
