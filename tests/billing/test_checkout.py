"""Checkout: server-side prices, pack validation, the hosted page and the success-page sync."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from falflow.billing.purchase_models import CreditPack
from tests.billing.harness import BillingHarness


def test_packs_listed_with_server_prices(harness: BillingHarness) -> None:
    response = harness.api.get("/api/billing/packs")
    assert response.status_code == 200, response.text
    packs = {pack["id"]: pack for pack in response.json()["packs"]}
    assert packs["starter"] == {"id": "starter", "name": "Starter: 5,000 credits", "credits": 5000,
                                "amount_minor": 500, "currency": "usd"}
    assert packs["creator"]["credits"] == 12_000
    assert packs["creator"]["amount_minor"] == 1_000
    assert packs["studio"]["credits"] == 30_000
    assert packs["studio"]["amount_minor"] == 2_500


def test_checkout_ignores_client_amounts(harness: BillingHarness) -> None:
    account = harness.sign_up_through_api()
    started = harness.checkout(account, "starter", amount=1, amount_minor=1, credits=10**9, currency="jpy", price=1)
    session = harness.standin.store.get_session(started["session_id"])
    assert session.amount_total == 500
    assert session.currency == "usd"
    assert session.metadata["credits"] == "5000"
    assert session.metadata["purchase_id"] == started["purchase_id"]
    assert session.payment_intent_metadata == session.metadata
    assert session.client_reference_id == started["purchase_id"]
    assert session.customer_email == account["email"]
    purchase = harness.purchase(account, started["purchase_id"])
    assert (purchase["credits"], purchase["amount_minor"], purchase["currency"]) == (5000, 500, "usd")
    assert purchase["status"] == "pending"


def test_checkout_return_urls(harness: BillingHarness) -> None:
    account = harness.sign_up()
    started = harness.checkout(account)
    session = harness.standin.store.get_session(started["session_id"])
    assert session.success_url == "http://localhost:3000/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == "http://localhost:3000/billing?checkout=cancelled"
    assert started["url"] == f"{harness.standin.url}/checkout/{started['session_id']}"


def test_checkout_unknown_pack_404(harness: BillingHarness) -> None:
    account = harness.sign_up()
    response = harness.api.post("/api/billing/create-checkout-session", headers=account["headers"],
                                json={"pack_id": "mega"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "'mega'" in response.json()["detail"]


def test_checkout_inactive_pack_422(harness: BillingHarness) -> None:
    harness.api.get("/api/billing/packs")
    with harness.database.write_session() as session:
        pack = session.get(CreditPack, "studio")
        assert pack is not None
        pack.active = False
        session.add(pack)
    account = harness.sign_up()
    response = harness.api.post("/api/billing/create-checkout-session", headers=account["headers"],
                                json={"pack_id": "studio"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "pack_id"
    listed = [pack["id"] for pack in harness.api.get("/api/billing/packs").json()["packs"]]
    assert "studio" not in listed


def test_checkout_requires_authentication(harness: BillingHarness) -> None:
    response = harness.api.post("/api/billing/create-checkout-session", json={"pack_id": "starter"})
    assert response.status_code == 401


def test_hosted_page_pays_and_redirects(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account, "creator")
    page = harness.control.get(urlsplit(started["url"]).path)
    assert page.status_code == 200
    assert "Creator: 12,000 credits" in page.text
    assert "USD 10.00" in page.text
    response = harness.control.post(f"/checkout/{started['session_id']}/pay", data={"card": "4242 4242 4242 4242"})
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert parse_qs(target.query) == {"checkout": ["success"], "session_id": [started["session_id"]]}
    assert harness.balance(account) == before + 12_000


def test_declined_card_changes_nothing(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account)
    response = harness.control.post(f"/checkout/{started['session_id']}/pay", data={"card": "4000 0000 0000 0002"})
    assert response.status_code == 402
    assert "declined" in response.text
    assert harness.balance(account) == before
    assert harness.purchase(account, started["purchase_id"])["status"] == "pending"


def test_sync_credits_when_webhook_held(harness: BillingHarness) -> None:
    account = harness.sign_up()
    before = harness.balance(account)
    started = harness.checkout(account)
    paid = harness.pay(started["session_id"], deliver=False)
    synced = harness.api.post(f"/api/billing/checkout-sessions/{started['session_id']}/sync", headers=account["headers"])
    assert synced.status_code == 200, synced.text
    assert synced.json()["status"] == "paid"
    assert harness.balance(account) == before + 5_000
    [delivery] = harness.deliver([paid["event_id"]])
    assert delivery["status_code"] == 200
    assert harness.balance(account) == before + 5_000
    assert len(harness.ledger_entries(account["user"]["id"], "purchase")) == 1


def test_sync_other_users_session_404(harness: BillingHarness) -> None:
    owner = harness.sign_up()
    intruder = harness.sign_up()
    started = harness.checkout(owner)
    harness.pay(started["session_id"], deliver=False)
    response = harness.api.post(f"/api/billing/checkout-sessions/{started['session_id']}/sync",
                                headers=intruder["headers"])
    assert response.status_code == 404
    assert harness.purchase(owner, started["purchase_id"])["status"] == "pending"


def test_checkout_fails_cleanly_when_stripe_down(harness: BillingHarness) -> None:
    """Uses a gateway aimed at a closed port, standing in for an unreachable Stripe."""
    from falflow.billing.stripe_runtime import install_stripe_gateway
    from falflow.integrations.stripe.gateway import StripeGateway

    account = harness.sign_up()
    install_stripe_gateway(StripeGateway(api_key="sk_test_x", webhook_secret=harness.webhook_secret,
                                         api_base="http://127.0.0.1:9", max_network_retries=0))
    response = harness.api.post("/api/billing/create-checkout-session", headers=account["headers"],
                                json={"pack_id": "starter"})
    assert response.status_code == 503
    assert response.json()["error"] == "payment_provider_unavailable"
    [purchase] = harness.api.get("/api/billing/purchases", headers=account["headers"]).json()["items"]
    assert purchase["status"] == "failed"
