"""The stand-in's /v1 routes, called through the real stripe-python client."""

from __future__ import annotations

import httpx
import pytest
import stripe

from falflow.sandbox.stripe.runner import RunningStripeStandin, start_stripe_standin
from tests.sandbox.stripe.conftest import API_KEY, session_params


def test_create_session_shape(client: stripe.StripeClient, standin: RunningStripeStandin) -> None:
    session = client.v1.checkout.sessions.create(session_params())  # type: ignore[arg-type]
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{standin.url}/checkout/{session.id}"
    assert (session.amount_total, session.currency, session.mode) == (500, "usd", "payment")
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert session.client_reference_id == "p-1"
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"purchase_id": "p-1", "user_id": "u-1", "pack_id": "starter", "credits": "5000"}


def test_idempotency_key_replay(client: stripe.StripeClient, standin: RunningStripeStandin) -> None:
    first = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "checkout:replay"})  # type: ignore[arg-type]
    again = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "checkout:replay"})  # type: ignore[arg-type]
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    other_key = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "checkout:other"})  # type: ignore[arg-type]
    assert other_key.id != first.id


def test_idempotency_key_with_other_params(client: stripe.StripeClient) -> None:
    client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "checkout:conflict"})  # type: ignore[arg-type]
    changed = session_params(client_reference_id="p-2")
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.checkout.sessions.create(changed, {"idempotency_key": "checkout:conflict"})  # type: ignore[arg-type]
    assert "checkout:conflict" in str(caught.value)


def test_invalid_params_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(session_params(mode="subscription"))  # type: ignore[arg-type]
    assert caught.value.param == "mode"
    with pytest.raises(stripe.InvalidRequestError) as missing_price:
        client.v1.checkout.sessions.create(session_params(line_items=[{"price": "price_123", "quantity": 1}]))  # type: ignore[arg-type]
    assert missing_price.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(session_params(metadata={"k" * 41: "v"}))  # type: ignore[arg-type]


def test_api_key_checked(standin: RunningStripeStandin) -> None:
    for key in ("sk_test_wrong", "sk_live_anything", "pk_test_public"):
        other = stripe.StripeClient(key, base_addresses={"api": standin.url}, max_network_retries=0)
        with pytest.raises(stripe.AuthenticationError):
            other.v1.checkout.sessions.create(session_params())  # type: ignore[arg-type]
    response = httpx.get(f"{standin.url}/v1/events")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_any_test_key_without_configured_key() -> None:
    standin = start_stripe_standin(None, "whsec_x")
    try:
        other = stripe.StripeClient("sk_test_anything", base_addresses={"api": standin.url}, max_network_retries=0)
        assert other.v1.checkout.sessions.create(session_params()).id.startswith("cs_test_")  # type: ignore[arg-type]
    finally:
        standin.stop()


def test_retrieve_with_expand(client: stripe.StripeClient, control: httpx.Client) -> None:
    session = client.v1.checkout.sessions.create(session_params())  # type: ignore[arg-type]
    paid = control.post(f"/_sandbox/checkout/sessions/{session.id}/pay", json={}).json()
    plain = client.v1.checkout.sessions.retrieve(session.id)
    assert plain.payment_intent == paid["payment_intent_id"]
    expanded = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    intent = expanded.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.status, intent.amount, intent.latest_charge) == ("succeeded", 500, paid["charge_id"])
    assert intent.metadata.to_dict()["purchase_id"] == "p-1"
    charge = client.v1.charges.retrieve(paid["charge_id"], {"expand": ["payment_intent"]})
    assert (charge.paid, charge.amount, charge.amount_refunded) == (True, 500, 0)
    assert isinstance(charge.payment_intent, stripe.PaymentIntent)
    assert client.v1.payment_intents.retrieve(paid["payment_intent_id"]).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id, {"expand": ["customer"]})


def test_unknown_objects_404(client: stripe.StripeClient) -> None:
    for call in (
        lambda: client.v1.checkout.sessions.retrieve("cs_test_missing"),
        lambda: client.v1.charges.retrieve("ch_missing"),
        lambda: client.v1.disputes.retrieve("dp_missing"),
        lambda: client.v1.payment_intents.retrieve("pi_missing"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"


def test_events_list_filters(client: stripe.StripeClient, control: httpx.Client) -> None:
    session = client.v1.checkout.sessions.create(session_params())  # type: ignore[arg-type]
    paid = control.post(f"/_sandbox/checkout/sessions/{session.id}/pay", json={"deliver": False}).json()
    refunded = control.post(f"/_sandbox/charges/{paid['charge_id']}/refund", json={"amount": 100}).json()
    newest = client.v1.events.list({"limit": 2})
    assert [event.id for event in newest.data] == [refunded["event_id"], paid["event_id"]]
    assert newest.has_more is True
    undelivered = client.v1.events.list({"delivery_success": False, "limit": 100})
    assert paid["event_id"] in {event.id for event in undelivered.data}
    assert refunded["event_id"] not in {event.id for event in undelivered.data}
    typed = client.v1.events.list({"type": "charge.refunded", "limit": 1})
    assert typed.data[0].id == refunded["event_id"]
    after = client.v1.events.list({"starting_after": refunded["event_id"], "limit": 1})
    assert after.data[0].id == paid["event_id"]
    event = client.v1.events.retrieve(paid["event_id"])
    assert event.api_version == "2026-10-28.endive"
    assert event.data.object["id"] == session.id


def test_standin_rejects_other_hosts() -> None:
    with pytest.raises(ValueError, match="127.0.0.1"):
        start_stripe_standin(None, "whsec_x", host="0.0.0.0")
