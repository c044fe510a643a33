"""Refund and dispute clawbacks, and what a negative balance does to new runs."""

from __future__ import annotations

import uuid

import pytest

from falflow.billing import ledger
from falflow.kit.errors import PaymentRequiredError
from tests.billing.harness import BillingHarness


def test_partial_then_full_refund_twice_each(harness: BillingHarness) -> None:
    account = harness.sign_up()
    bought = harness.buy(account, "creator")  # 12,000 credits for 1,000 cents
    after_purchase = harness.balance(account)
    partial = harness.refund(bought["charge_id"], 300, duplicate=2)
    assert partial["amount_refunded"] == 300
    assert harness.balance(account) == after_purchase - 3_600
    assert harness.purchase(account, bought["purchase_id"])["status"] == "partially_refunded"
    rest = harness.refund(bought["charge_id"], duplicate=2)
    assert rest["amount_refunded"] == 1_000
    harness.deliver([partial["event_id"], rest["event_id"]], duplicate=2)
    assert harness.balance(account) == after_purchase - 12_000
    clawbacks = harness.ledger_entries(account["user"]["id"], "refund_clawback")
    assert sum(entry.amount for entry in clawbacks) == -12_000
    assert sorted(entry.idempotency_key for entry in clawbacks) == sorted(
        [f"refund:{bought['charge_id']}:300", f"refund:{bought['charge_id']}:1000"]
    )
    purchase = harness.purchase(account, bought["purchase_id"])
    assert purchase["status"] == "refunded"
    assert purchase["amount_refunded_minor"] == 1_000


def test_refund_rounds_toward_user(harness: BillingHarness) -> None:
    account = harness.sign_up()
    bought = harness.buy(account, "studio")  # 30,000 credits for 2,500 cents
    after_purchase = harness.balance(account)
    harness.refund(bought["charge_id"], 7)  # 30000 * 7 / 2500 = 84 exactly
    harness.refund(bought["charge_id"], 1)  # cumulative 8 -> 96, so 12 more
    harness.refund(bought["charge_id"], 3)  # cumulative 11 -> 132, so 36 more
    assert harness.balance(account) == after_purchase - 132
    harness.refund(bought["charge_id"])
    assert harness.balance(account) == after_purchase - 30_000


def test_dispute_clawback_then_won(harness: BillingHarness) -> None:
    account = harness.sign_up()
    bought = harness.buy(account)
    after_purchase = harness.balance(account)
    opened = harness.open_dispute(bought["charge_id"], duplicate=2)
    assert harness.balance(account) == after_purchase - 5_000
    assert harness.purchase(account, bought["purchase_id"])["status"] == "disputed"
    closed = harness.close_dispute(opened["dispute_id"], "won", duplicate=2)
    assert harness.balance(account) == after_purchase
    assert harness.purchase(account, bought["purchase_id"])["status"] == "paid"
    harness.deliver([closed["event_id"], opened["event_id"]])
    assert harness.balance(account) == after_purchase
    kinds = [entry.kind for entry in harness.ledger_entries(account["user"]["id"])]
    assert kinds.count("dispute_clawback") == 1
    assert kinds.count("dispute_reversal") == 1


def test_dispute_lost_keeps_clawback(harness: BillingHarness) -> None:
    account = harness.sign_up()
    bought = harness.buy(account)
    after_purchase = harness.balance(account)
    opened = harness.open_dispute(bought["charge_id"])
    harness.close_dispute(opened["dispute_id"], "lost")
    assert harness.balance(account) == after_purchase - 5_000
    assert harness.purchase(account, bought["purchase_id"])["status"] == "disputed"


def test_dispute_closed_first_nets_zero(harness: BillingHarness) -> None:
    account = harness.sign_up()
    bought = harness.buy(account)
    after_purchase = harness.balance(account)
    opened = harness.open_dispute(bought["charge_id"], deliver=False)
    closed = harness.close_dispute(opened["dispute_id"], "won", deliver=False)
    harness.deliver([closed["event_id"], opened["event_id"]])
    assert harness.balance(account) == after_purchase
    assert harness.purchase(account, bought["purchase_id"])["status"] == "paid"


def test_dispute_inquiry_ignored(harness: BillingHarness) -> None:
    account = harness.sign_up()
    bought = harness.buy(account)
    after_purchase = harness.balance(account)
    opened = harness.open_dispute(bought["charge_id"], inquiry=True)
    assert harness.inbox(opened["event_id"]).status == "ignored"  # type: ignore[union-attr]
    harness.close_dispute(opened["dispute_id"], "lost")
    assert harness.balance(account) == after_purchase
    assert harness.purchase(account, bought["purchase_id"])["status"] == "paid"


def test_dispute_after_partial_refund(harness: BillingHarness) -> None:
    account = harness.sign_up()
    bought = harness.buy(account)
    after_purchase = harness.balance(account)
    harness.refund(bought["charge_id"], 100)  # takes back 1,000
    harness.open_dispute(bought["charge_id"])  # disputes the remaining 400 cents: 4,000 credits
    assert harness.balance(account) == after_purchase - 5_000


def test_negative_balance_blocks_run_hold(harness: BillingHarness) -> None:
    account = harness.sign_up()
    user_id = uuid.UUID(account["user"]["id"])
    bought = harness.buy(account)
    with harness.database.write_session() as session:
        hold = ledger.reserve_credits(session, user_id=user_id, run_id=uuid.uuid4(), amount=6_000)
        ledger.charge_reservation(session, reservation_id=hold.id, amount=6_000, idempotency_key=f"run:{hold.run_id}:n1")
        ledger.release_reservation(session, reservation_id=hold.id)
    harness.refund(bought["charge_id"])
    balance = harness.balance(account)
    assert balance == 2_000 + 5_000 - 6_000 - 5_000
    with harness.database.write_session() as session:
        with pytest.raises(PaymentRequiredError) as caught:
            ledger.reserve_credits(session, user_id=user_id, run_id=uuid.uuid4(), amount=10)
    assert caught.value.status_code == 402
    assert "refund or dispute" in caught.value.detail
    assert caught.value.extra["balance"] == balance
    assert harness.credits(account)["reserved"] == 0
