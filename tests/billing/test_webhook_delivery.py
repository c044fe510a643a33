"""Webhook deliveries: duplicates, concurrency, ordering and the checkout status transitions."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import stripe

from falflow.billing import stripe_sync
from falflow.billing.packs import ensure_default_packs
from falflow.billing.purchase_models import Purchase
from falflow.billing.stripe_runtime import get_stripe_gateway
from falflow.billing.webhook_processing import reprocess_unfinished_events
from tests.billing.conftest import STANDIN_API_KEY
from tests.billing.harness import BillingHarness


def test_duplicate_deliveries_credit_once(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account)
    paid = harness.pay(started["session_id"], duplicate=3)
    assert [d["status_code"] for d in paid["deliveries"]] == [200, 200, 200]
    assert harness.balance(account) == before + 5_000
    assert len(harness.ledger_entries(account["user"]["id"], "purchase")) == 1
    record = harness.inbox(paid["event_id"])
    assert record is not None
    assert record.status == "processed"
    assert record.attempts == 1


def test_concurrent_deliveries_credit_once(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account)
    paid = harness.pay(started["session_id"], duplicate=6, concurrent=True)
    assert [d["status_code"] for d in paid["deliveries"]] == [200] * 6
    assert harness.balance(account) == before + 5_000
    assert len(harness.ledger_entries(account["user"]["id"], "purchase")) == 1


def test_threaded_deliveries_credit_once(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account)
    paid = harness.pay(started["session_id"], deliver=False)
    body = harness.event_payload(paid["event_id"])
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def deliver() -> None:
        barrier.wait()
        statuses.append(harness.post_webhook(body).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    assert harness.balance(account) == before + 5_000
    assert len(harness.ledger_entries(account["user"]["id"], "purchase")) == 1


def test_completed_then_async_succeeded_credits_once(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account, "creator")
    completed = harness.pay(started["session_id"], delayed=True)
    assert harness.purchase(account, started["purchase_id"])["status"] == "processing"
    assert harness.balance(account) == before
    succeeded = harness.settle_async(started["session_id"], "succeeded")
    assert harness.purchase(account, started["purchase_id"])["status"] == "paid"
    harness.deliver([completed["event_id"], succeeded["event_id"]], duplicate=2)
    assert harness.balance(account) == before + 12_000
    assert len(harness.ledger_entries(account["user"]["id"], "purchase")) == 1


def test_unpaid_then_async_failed(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account)
    completed = harness.pay(started["session_id"], delayed=True)
    assert harness.purchase(account, started["purchase_id"])["status"] == "processing"
    harness.settle_async(started["session_id"], "failed")
    assert harness.purchase(account, started["purchase_id"])["status"] == "failed"
    harness.deliver([completed["event_id"]])
    assert harness.purchase(account, started["purchase_id"])["status"] == "failed"
    assert harness.balance(account) == before
    assert harness.ledger_entries(account["user"]["id"], "purchase") == []


def test_async_failed_before_completed(harness: BillingHarness) -> None:
    account = harness.sign_up()
    started = harness.checkout(account)
    completed = harness.pay(started["session_id"], delayed=True, deliver=False)
    failed = harness.settle_async(started["session_id"], "failed", deliver=False)
    harness.deliver([failed["event_id"], completed["event_id"]])
    assert harness.purchase(account, started["purchase_id"])["status"] == "failed"


def test_expired_session_marks_purchase(harness: BillingHarness) -> None:
    account = harness.sign_up()
    started = harness.checkout(account)
    expired = harness.expire(started["session_id"], duplicate=2)
    assert [d["status_code"] for d in expired["deliveries"]] == [200, 200]
    assert harness.purchase(account, started["purchase_id"])["status"] == "expired"


def test_refund_before_completed_either_order(harness: BillingHarness) -> None:
    for reverse in (False, True):
        account = harness.sign_up()
        before = harness.balance(account)
        started = harness.checkout(account)
        paid = harness.pay(started["session_id"], deliver=False)
        refunded = harness.refund(paid["charge_id"], 150, deliver=False)
        order = [paid["event_id"], refunded["event_id"]]
        harness.deliver(list(reversed(order)) if reverse else order)
        # 150 of 500 cents refunded takes back floor(5000 * 150 / 500) = 1500 credits.
        assert harness.balance(account) == before + 5_000 - 1_500, f"reverse={reverse}"
        assert harness.purchase(account, started["purchase_id"])["status"] == "partially_refunded"


def test_unhandled_event_type_ignored(harness: BillingHarness) -> None:
    body = (
        b'{"id": "evt_customer_1", "object": "event", "type": "customer.created", "livemode": false, '
        b'"created": 1, "api_version": "2026-10-28.endive", "data": {"object": {"id": "cus_1", "object": "customer"}}}'
    )
    response = harness.post_webhook(body)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    record = harness.inbox("evt_customer_1")
    assert record is not None
    assert record.status == "ignored"


def test_livemode_mismatch_ignored(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account)
    paid = harness.pay(started["session_id"], deliver=False)
    body = harness.event_payload(paid["event_id"]).replace(b'"livemode": false', b'"livemode": true')
    response = harness.post_webhook(body)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert harness.balance(account) == before
    assert harness.purchase(account, started["purchase_id"])["status"] == "pending"


def test_session_with_wrong_amount_not_credited(harness: BillingHarness) -> None:
    """A session made outside falflow that names a real purchase id but a lower price credits nothing."""
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account)
    forger = stripe.StripeClient(STANDIN_API_KEY, base_addresses={"api": harness.standin.url}, max_network_retries=0)
    metadata = {"purchase_id": started["purchase_id"], "user_id": account["user"]["id"]}
    forged = forger.v1.checkout.sessions.create({
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 50,
                                                      "product_data": {"name": "cheap"}}}],
        "client_reference_id": started["purchase_id"],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": "http://localhost:3000/done",
    })
    paid = harness.pay(forged.id)
    assert [d["status_code"] for d in paid["deliveries"]] == [200]
    record = harness.inbox(paid["event_id"])
    assert record is not None
    assert record.status == "ignored"
    assert harness.balance(account) == before
    assert harness.purchase(account, started["purchase_id"])["status"] == "pending"


def test_unknown_purchase_pending_dependency(harness: BillingHarness) -> None:
    client = stripe.StripeClient(STANDIN_API_KEY, base_addresses={"api": harness.standin.url}, max_network_retries=0)
    missing = str(uuid.uuid4())
    created = client.v1.checkout.sessions.create({
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 500,
                                                      "product_data": {"name": "x"}}}],
        "client_reference_id": missing,
        "success_url": "http://localhost:3000/done",
    })
    paid = harness.pay(created.id)
    assert [d["status_code"] for d in paid["deliveries"]] == [200]
    record = harness.inbox(paid["event_id"])
    assert record is not None
    assert record.status == "pending_dependency"


def test_pending_event_reprocessed_later(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    missing = uuid.uuid4()
    client = stripe.StripeClient(STANDIN_API_KEY, base_addresses={"api": harness.standin.url}, max_network_retries=0)
    metadata = {"purchase_id": str(missing), "user_id": account["user"]["id"]}
    created = client.v1.checkout.sessions.create({
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 500,
                                                      "product_data": {"name": "x"}}}],
        "client_reference_id": str(missing),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": "http://localhost:3000/done",
    })
    paid = harness.pay(created.id)
    assert harness.inbox(paid["event_id"]).status == "pending_dependency"  # type: ignore[union-attr]
    with harness.database.write_session() as session:
        ensure_default_packs(session)
        session.add(Purchase(id=missing, user_id=uuid.UUID(account["user"]["id"]), pack_id="starter", credits=5_000,
                             amount_minor=500, currency="usd"))
    outcomes = reprocess_unfinished_events(harness.database, get_stripe_gateway(), older_than=timedelta(0))
    assert [(o.event_id, o.status.value) for o in outcomes] == [(paid["event_id"], "processed")]
    assert harness.balance(account) == before + 5_000
    assert harness.inbox(paid["event_id"]).attempts == 2  # type: ignore[union-attr]


def test_handler_bug_answers_500_then_retry(harness: BillingHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Injects a failure by patching the refund handler for the first delivery only."""
    account = harness.sign_up()
    bought = harness.buy(account)
    after_purchase = harness.balance(account)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("injected handler bug")

    monkeypatch.setattr(stripe_sync, "sync_charge", broken)
    refunded = harness.refund(bought["charge_id"], 100)
    assert refunded["deliveries"][0]["status_code"] == 500
    record = harness.inbox(refunded["event_id"])
    assert record is not None
    assert (record.status, record.attempts) == ("failed", 1)
    assert "injected handler bug" in (record.last_error or "")
    assert harness.balance(account) == after_purchase
    monkeypatch.undo()
    [retry] = harness.deliver([refunded["event_id"]])
    assert retry["status_code"] == 200
    assert harness.balance(account) == after_purchase - 1_000
    record = harness.inbox(refunded["event_id"])
    assert record is not None
    assert (record.status, record.attempts) == ("processed", 2)


def test_reference_metadata_mismatch_ignored(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    first = harness.checkout(account)
    second = harness.checkout(account)
    client = stripe.StripeClient(STANDIN_API_KEY, base_addresses={"api": harness.standin.url}, max_network_retries=0)
    mixed = client.v1.checkout.sessions.create({
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 500,
                                                      "product_data": {"name": "x"}}}],
        "client_reference_id": first["purchase_id"],
        "metadata": {"purchase_id": second["purchase_id"]},
        "success_url": "http://localhost:3000/done",
    })
    paid = harness.pay(mixed.id)
    assert harness.inbox(paid["event_id"]).status == "ignored"  # type: ignore[union-attr]
    assert harness.balance(account) == before
    assert harness.purchase(account, first["purchase_id"])["status"] == "pending"
    assert harness.purchase(account, second["purchase_id"])["status"] == "pending"
