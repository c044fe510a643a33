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


def test_loaded_hold_follows_charge_and_release(app_env: AppContext, harness: BillingHarness) -> None:
    """The ledger writes reservations with Core statements; a copy already in the session must not go stale."""
    account = harness.sign_up()
    user_id = uuid.UUID(account["user"]["id"])
    run_id = uuid.uuid4()
    with app_env.database.write_session() as session:
        hold = ledger.reserve_credits(session, user_id=user_id, run_id=run_id, amount=100)
        loaded = session.get(CreditReservation, hold.id)
        assert loaded is not None
        assert loaded.charged == 0
        assert ledger.charge_reservation(session, reservation_id=hold.id, amount=30, idempotency_key=f"run:{run_id}:n1") == 30
        assert loaded.charged == 30
        assert ledger.release_reservation(session, reservation_id=hold.id) == 70
        assert loaded.status == "settled"
        assert loaded.closed_at is not None
        assert ledger.release_reservation(session, reservation_id=hold.id) == 0
    with app_env.database.read_session() as session:
        stored = session.get(CreditReservation, hold.id)
        assert stored is not None
        assert (stored.charged, stored.status) == (30, "settled")
        assert ledger.find_ledger_violations(session) == []
    assert harness.credits(account)["reserved"] == 0


def test_uncharged_hold_is_released(app_env: AppContext, harness: BillingHarness) -> None:
    account = harness.sign_up()
    user_id = uuid.UUID(account["user"]["id"])
    with app_env.database.write_session() as session:
        hold = ledger.reserve_credits(session, user_id=user_id, run_id=uuid.uuid4(), amount=40)
        assert ledger.release_reservation(session, reservation_id=hold.id) == 40
    with app_env.database.read_session() as session:
        stored = session.get(CreditReservation, hold.id)
        assert stored is not None
        assert stored.status == "released"
        assert stored.closed_at is not None
    assert harness.credits(account)["reserved"] == 0
