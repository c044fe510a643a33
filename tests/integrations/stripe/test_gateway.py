"""`StripeGateway` against the stand-in: Checkout parameters, idempotency, reads and errors."""

from __future__ import annotations

import ast
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from falflow.integrations.stripe.errors import StripeObjectNotFoundError, StripeUnavailableError
from falflow.integrations.stripe.gateway import StripeGateway
from falflow.sandbox.stripe.runner import RunningStripeStandin
from tests.integrations.stripe.conftest import WEBHOOK_SECRET


@dataclass(frozen=True)
class FakePurchase:
    id: uuid.UUID
    user_id: uuid.UUID
    pack_id: str
    credits: int
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class FakePack:
    id: str
    name: str


PACK = FakePack("creator", "Creator: 12,000 credits")


def _purchase() -> FakePurchase:
    return FakePurchase(uuid.uuid4(), uuid.uuid4(), "creator", 12_000, 1_000, "usd")


def _create(gateway: StripeGateway, purchase: FakePurchase) -> str:
    return gateway.create_checkout_session(
        purchase, PACK, success_url="http://localhost:3000/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://localhost:3000/billing?checkout=cancelled", customer_email="buyer@example.com",
    ).id


def test_checkout_session_parameters(gateway: StripeGateway, standin: RunningStripeStandin) -> None:
    purchase = _purchase()
    created = gateway.create_checkout_session(
        purchase, PACK, success_url="http://localhost:3000/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://localhost:3000/no", customer_email="buyer@example.com",
    )
    assert created.url == f"{standin.url}/checkout/{created.id}"
    record = standin.store.get_session(created.id)
    expected_metadata = {"purchase_id": str(purchase.id), "user_id": str(purchase.user_id), "pack_id": "creator",
                         "credits": "12000"}
    assert record.metadata == expected_metadata
    assert record.payment_intent_metadata == expected_metadata
    assert record.client_reference_id == str(purchase.id)
    assert record.customer_email == "buyer@example.com"
    assert (record.amount_total, record.currency) == (1_000, "usd")
    [item] = record.line_items
    assert (item.name, item.quantity, item.unit_amount) == ("Creator: 12,000 credits", 1, 1_000)
    assert record.success_url == "http://localhost:3000/ok?session_id={CHECKOUT_SESSION_ID}"


def test_checkout_replays_for_same_purchase(gateway: StripeGateway) -> None:
    purchase = _purchase()
    assert _create(gateway, purchase) == _create(gateway, purchase)
    assert _create(gateway, _purchase()) != _create(gateway, purchase)


def test_checkout_key_reused_with_new_price(gateway: StripeGateway) -> None:
    purchase = _purchase()
    _create(gateway, purchase)
    with pytest.raises(StripeUnavailableError, match="idempotency key"):
        _create(gateway, replace(purchase, amount_minor=999))


def test_retrieve_session_typed(gateway: StripeGateway, control: httpx.Client) -> None:
    purchase = _purchase()
    session_id = _create(gateway, purchase)
    open_state = gateway.retrieve_session(session_id)
    assert (open_state.status, open_state.payment_status, open_state.payment_intent) == ("open", "unpaid", None)
    paid = control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={}).json()
    state = gateway.retrieve_session(session_id)
    assert (state.status, state.payment_status, state.amount_total, state.currency) == ("complete", "paid", 1_000, "usd")
    assert state.client_reference_id == str(purchase.id)
    assert state.livemode is False
    assert state.payment_intent is not None
    assert state.payment_intent.id == paid["payment_intent_id"]
    assert state.payment_intent.status == "succeeded"
    assert state.payment_intent.latest_charge == paid["charge_id"]
    assert state.payment_intent.metadata["purchase_id"] == str(purchase.id)


def test_retrieve_charge_and_dispute(gateway: StripeGateway, control: httpx.Client) -> None:
    purchase = _purchase()
    paid = control.post(f"/_sandbox/checkout/sessions/{_create(gateway, purchase)}/pay", json={}).json()
    control.post(f"/_sandbox/charges/{paid['charge_id']}/refund", json={"amount": 250})
    charge = gateway.retrieve_charge(paid["charge_id"])
    assert (charge.amount, charge.amount_refunded, charge.paid, charge.status) == (1_000, 250, True, "succeeded")
    assert charge.payment_intent is not None
    assert charge.payment_intent.metadata["purchase_id"] == str(purchase.id)
    opened = control.post(f"/_sandbox/charges/{paid['charge_id']}/dispute", json={}).json()
    dispute = gateway.retrieve_dispute(opened["dispute_id"])
    assert (dispute.amount, dispute.status, dispute.charge_id, dispute.is_inquiry) == (
        750, "needs_response", paid["charge_id"], False)
    assert dispute.payment_intent is not None
    assert dispute.payment_intent.id == paid["payment_intent_id"]


def test_retrieve_missing_object(gateway: StripeGateway) -> None:
    with pytest.raises(StripeObjectNotFoundError, match="ch_missing"):
        gateway.retrieve_charge("ch_missing")


def test_wrong_api_key(standin: RunningStripeStandin) -> None:
    wrong = StripeGateway(api_key="sk_test_wrong", webhook_secret=WEBHOOK_SECRET, api_base=standin.url,
                          max_network_retries=0)
    with pytest.raises(StripeUnavailableError, match="API key") as caught:
        wrong.retrieve_session("cs_test_x")
    assert "sk_test_wrong" not in caught.value.detail


def test_unreachable_stripe() -> None:
    """Aims the gateway at a closed loopback port, standing in for a network failure."""
    offline = StripeGateway(api_key="sk_test_x", webhook_secret=WEBHOOK_SECRET, api_base="http://127.0.0.1:9",
                            max_network_retries=0)
    with pytest.raises(StripeUnavailableError) as caught:
        offline.retrieve_session("cs_test_x")
    assert caught.value.status_code == 503


def test_gateway_rejects_empty_configuration() -> None:
    with pytest.raises(ValueError, match="api_key"):
        StripeGateway(api_key="", webhook_secret=WEBHOOK_SECRET)
    with pytest.raises(ValueError, match="webhook_secret"):
        StripeGateway(api_key="sk_test_x", webhook_secret="")


def test_livemode_follows_key() -> None:
    assert StripeGateway(api_key="sk_live_x", webhook_secret=WEBHOOK_SECRET).livemode is True
    assert StripeGateway(api_key="sk_test_x", webhook_secret=WEBHOOK_SECRET).livemode is False


def test_only_gateway_imports_stripe() -> None:
    package = Path(__file__).resolve().parents[3] / "falflow"
    importers = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(name == "stripe" or name.startswith("stripe.") for name in names):
                importers.append(path.relative_to(package).as_posix())
    assert importers == ["integrations/stripe/gateway.py"]
