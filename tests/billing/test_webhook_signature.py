"""The webhook route: signature checks, body limits and its place outside bearer auth."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.billing.harness import BillingHarness


def _held_paid_event(harness: BillingHarness) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    account = harness.sign_up()
    started = harness.checkout(account)
    paid = harness.pay(started["session_id"], deliver=False)
    return account, started, harness.event_payload(paid["event_id"])


def _assert_untouched(harness: BillingHarness, account: dict[str, Any], purchase_id: str, balance: int) -> None:
    assert harness.balance(account) == balance
    assert harness.purchase(account, purchase_id)["status"] == "pending"
    assert harness.ledger_entries(account["user"]["id"], "purchase") == []
    assert harness.inbox_count() == 0


def test_bad_signatures_rejected_without_effects(harness: BillingHarness) -> None:
    account, started, body = _held_paid_event(harness)
    balance = harness.balance(account)
    reserialised = json.dumps(json.loads(body)).encode()
    cases = {
        "missing": harness.post_webhook(body, signature=""),
        "garbage": harness.post_webhook(body, signature="not-a-signature"),
        "wrong secret": harness.post_webhook(body, secret="whsec_someone_else"),
        "stale": harness.post_webhook(body, timestamp=int(time.time()) - 301),
        "re-serialised body": harness.post_webhook(
            reserialised, signature=harness.post_webhook_signature(body)
        ),
        "v0 scheme only": harness.post_webhook(
            body, signature=harness.post_webhook_signature(body).replace("v1=", "v0=")
        ),
    }
    for case, response in cases.items():
        assert response.status_code == 400, f"{case}: {response.status_code} {response.text}"
        assert response.json()["error"] == "invalid_signature", case
    _assert_untouched(harness, account, started["purchase_id"], balance)
    accepted = harness.post_webhook(body)
    assert accepted.status_code == 200
    assert harness.balance(account) == balance + 5_000


def test_signed_non_event_body_400(harness: BillingHarness) -> None:
    response = harness.post_webhook(b"this is not json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_payload"
    assert harness.inbox_count() == 0


def test_oversized_body_413(harness: BillingHarness) -> None:
    body = b'{"id": "evt_big", "object": "event", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = harness.post_webhook(body)
    assert response.status_code == 413
    assert harness.inbox_count() == 0


def test_webhook_accepts_post_only(harness: BillingHarness) -> None:
    assert harness.api.get("/api/webhooks/stripe").status_code == 405


def test_webhook_needs_no_bearer_token(harness: BillingHarness) -> None:
    account, started, body = _held_paid_event(harness)
    response = harness.post_webhook(body)
    assert response.status_code == 200
    assert response.json() == {"received": True, "status": "processed", "duplicate": False}
    assert harness.purchase(account, started["purchase_id"])["status"] == "paid"


def test_webhook_openapi_security_empty(harness: BillingHarness) -> None:
    document = harness.api.get("/api/openapi.json").json()
    assert document["paths"]["/webhooks/stripe"]["post"]["security"] == []
    assert document["paths"]["/billing/packs"]["get"]["security"] == []
    assert document["paths"]["/billing/ledger"]["get"].get("security") != []
