"""Purchase listings and the credit history (JSON pages and CSV export)."""

from __future__ import annotations

import csv
import io
import uuid

from falflow.billing import ledger
from falflow.billing.models import LedgerKind
from tests.billing.harness import BillingHarness


def _run_with_charge(harness: BillingHarness, user_id: uuid.UUID) -> uuid.UUID:
    run_id = uuid.uuid4()
    with harness.database.write_session() as session:
        hold = ledger.reserve_credits(session, user_id=user_id, run_id=run_id, amount=300)
    with harness.database.write_session() as session:
        ledger.charge_reservation(session, reservation_id=hold.id, amount=120, idempotency_key=f"run:{run_id}:n1:charge",
                                  node_id="n1", endpoint_id="fal-ai/flux/schnell", memo="Image")
    with harness.database.write_session() as session:
        ledger.release_reservation(session, reservation_id=hold.id)
    return run_id


def test_ledger_lists_every_kind_newest_first(harness: BillingHarness) -> None:
    account = harness.sign_up()
    user_id = uuid.UUID(account["user"]["id"])
    bought = harness.buy(account)
    run_id = _run_with_charge(harness, user_id)
    harness.refund(bought["charge_id"], 50)
    response = harness.api.get("/api/billing/ledger", headers=account["headers"])
    assert response.status_code == 200, response.text
    page = response.json()
    kinds = [item["kind"] for item in page["items"]]
    assert kinds == ["refund_clawback", "release", "run_charge", "hold", "purchase", "grant"]
    by_kind = {item["kind"]: item for item in page["items"]}
    assert by_kind["hold"]["amount"] == -300
    assert by_kind["release"]["amount"] == 180
    assert by_kind["run_charge"]["amount"] == -120
    assert by_kind["run_charge"]["node_id"] == "n1"
    assert by_kind["run_charge"]["model"] == "fal-ai/flux/schnell"
    assert by_kind["run_charge"]["run_id"] == str(run_id)
    assert by_kind["purchase"]["purchase_id"] == bought["purchase_id"]
    assert by_kind["refund_clawback"]["amount"] == -500
    assert by_kind["refund_clawback"]["external_ref"] == bought["charge_id"]
    assert page["balance"] == 2_000 + 5_000 - 120 - 500
    assert (page["reserved"], page["available"]) == (0, page["balance"])
    assert page["next_offset"] is None


def test_ledger_pagination_and_run_filter(harness: BillingHarness) -> None:
    account = harness.sign_up()
    user_id = uuid.UUID(account["user"]["id"])
    harness.buy(account)
    run_id = _run_with_charge(harness, user_id)
    first = harness.api.get("/api/billing/ledger", params={"limit": 2}, headers=account["headers"]).json()
    second = harness.api.get("/api/billing/ledger", params={"limit": 2, "offset": 2}, headers=account["headers"]).json()
    third = harness.api.get("/api/billing/ledger", params={"limit": 2, "offset": 4}, headers=account["headers"]).json()
    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert len(ids) == 5
    assert len(set(ids)) == 5
    assert (first["next_offset"], second["next_offset"], third["next_offset"]) == (2, 4, None)
    only_run = harness.api.get("/api/billing/ledger", params={"run_id": str(run_id)}, headers=account["headers"]).json()
    assert [item["kind"] for item in only_run["items"]] == ["release", "run_charge", "hold"]


def test_ledger_scoped_to_caller(harness: BillingHarness) -> None:
    buyer = harness.sign_up()
    other = harness.sign_up()
    harness.buy(buyer)
    items = harness.api.get("/api/billing/ledger", headers=other["headers"]).json()["items"]
    assert [item["kind"] for item in items] == ["grant"]


def test_ledger_csv_export(harness: BillingHarness) -> None:
    account = harness.sign_up()
    user_id = uuid.UUID(account["user"]["id"])
    harness.buy(account)
    with harness.database.write_session() as session:
        ledger.post_entry(session, user_id=user_id, amount=1, kind=LedgerKind.ADJUSTMENT,
                          idempotency_key=f"adjust:{user_id}", memo="=HYPERLINK(\"http://evil.example\")")
    response = harness.api.get("/api/billing/ledger.csv", headers=account["headers"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["kind"] for row in rows] == ["adjustment", "purchase", "grant"]
    assert rows[0]["memo"].startswith("'=")
    assert rows[1]["amount"] == "5000"
    assert rows[1]["balance_after"] == "7000"


def test_purchases_listed_newest_first(harness: BillingHarness) -> None:
    account = harness.sign_up()
    first = harness.buy(account, "starter")
    second = harness.checkout(account, "studio")
    response = harness.api.get("/api/billing/purchases", params={"limit": 1}, headers=account["headers"])
    page = response.json()
    assert [item["id"] for item in page["items"]] == [second["purchase_id"]]
    assert page["next_offset"] == 1
    rest = harness.api.get("/api/billing/purchases", params={"offset": 1}, headers=account["headers"]).json()
    assert [(item["id"], item["status"]) for item in rest["items"]] == [(first["purchase_id"], "paid")]


def test_other_users_purchase_404(harness: BillingHarness) -> None:
    owner = harness.sign_up()
    other = harness.sign_up()
    started = harness.checkout(owner)
    response = harness.api.get(f"/api/billing/purchases/{started['purchase_id']}", headers=other["headers"])
    assert response.status_code == 404
    assert harness.api.get("/api/billing/purchases", headers=other["headers"]).json()["items"] == []
