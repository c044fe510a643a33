"""Holds read under a row lock must reflect other transactions' changes."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from falflow.billing import ledger
from falflow.billing.models import CreditReservation
from falflow.context import AppContext
from tests.billing.harness import BillingHarness


def test_release_with_stale_copy_is_noop(app_env: AppContext, harness: BillingHarness) -> None:
    account = harness.sign_up()
    user_id = uuid.UUID(account["user"]["id"])
    database = app_env.database
    with database.write_session() as session:
        first = ledger.reserve_credits(session, user_id=user_id, run_id=uuid.uuid4(), amount=100)
        ledger.reserve_credits(session, user_id=user_id, run_id=uuid.uuid4(), amount=200)
    with Session(database.engine, expire_on_commit=False) as long_lived:
        stale = long_lived.get(CreditReservation, first.id)
        assert stale is not None
        long_lived.commit()
        with database.write_session() as session:
            assert ledger.release_reservation(session, reservation_id=first.id) == 100
        assert ledger.release_reservation(long_lived, reservation_id=first.id) == 0
        long_lived.commit()
    assert harness.credits(account)["reserved"] == 200
    with database.read_session() as session:
        assert ledger.find_ledger_violations(session) == []
