"""Test controls: object life cycles and webhook delivery knobs, checked at a recording receiver."""

from __future__ import annotations

import httpx
import pytest
import stripe

from falflow.sandbox.stripe.signing import sign_payload
from tests.sandbox.stripe.conftest import WEBHOOK_SECRET, Receiver, session_params


def _new_session(client: stripe.StripeClient) -> str:
    return client.v1.checkout.sessions.create(session_params()).id  # type: ignore[arg-type]


def test_pay_delivers_signed_completed_event(client: stripe.StripeClient, control: httpx.Client,
                                             receiver: Receiver) -> None:
    session_id = _new_session(client)
    paid = control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={}).json()
    assert paid["deliveries"] == [{"event_id": paid["event_id"], "event_type": "checkout.session.completed",
                                   "status_code": 200, "error": None}]
    [event] = receiver.events()
    assert event.type == "checkout.session.completed"
    assert event.id == paid["event_id"]
    assert event.data.object["payment_status"] == "paid"
    assert event.data.object["payment_intent"] == paid["payment_intent_id"]


def test_signature_matches_stripe_helper() -> None:
    body = b'{"id": "evt_1"}'
    ours = sign_payload(body, WEBHOOK_SECRET, timestamp=1_700_000_000)
    theirs = stripe.WebhookSignature.generate_signature_header(body.decode(), WEBHOOK_SECRET, timestamp=1_700_000_000)
    assert ours == theirs


def test_duplicate_and_concurrent_knobs(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    session_id = _new_session(client)
    paid = control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={"duplicate": 3}).json()
    assert len(paid["deliveries"]) == 3
    again = control.post("/_sandbox/deliveries",
                         json={"event_ids": [paid["event_id"]], "duplicate": 4, "concurrent": True}).json()
    assert [d["status_code"] for d in again["deliveries"]] == [200] * 4
    assert {event.id for event in receiver.events()} == {paid["event_id"]}
    assert len(receiver.events()) == 7


def test_hold_and_reorder(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    session_id = _new_session(client)
    paid = control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={"deliver": False}).json()
    refund = control.post(f"/_sandbox/charges/{paid['charge_id']}/refund", json={"amount": 100, "deliver": False}).json()
    assert (paid["held"], refund["held"]) == (True, True)
    assert receiver.events() == []
    held = {event["id"] for event in control.get("/_sandbox/events/held").json()["data"]}
    assert {paid["event_id"], refund["event_id"]} <= held
    control.post("/_sandbox/deliveries", json={"event_ids": [refund["event_id"], paid["event_id"]]})
    assert [event.type for event in receiver.events()] == ["charge.refunded", "checkout.session.completed"]
    held_after = {event["id"] for event in control.get("/_sandbox/events/held").json()["data"]}
    assert not {paid["event_id"], refund["event_id"]} & held_after


def test_failed_delivery_recorded(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    receiver.status_code = 500
    session_id = _new_session(client)
    paid = control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={}).json()
    assert paid["deliveries"][0]["status_code"] == 500
    undelivered = client.v1.events.list({"delivery_success": False, "limit": 100})
    assert paid["event_id"] in {event.id for event in undelivered.data}


def test_refunds_are_cumulative(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    paid = control.post(f"/_sandbox/checkout/sessions/{_new_session(client)}/pay", json={}).json()
    first = control.post(f"/_sandbox/charges/{paid['charge_id']}/refund", json={"amount": 150}).json()
    second = control.post(f"/_sandbox/charges/{paid['charge_id']}/refund", json={}).json()
    assert (first["amount_refunded"], second["amount_refunded"]) == (150, 500)
    refunds = [event for event in receiver.events() if event.type == "charge.refunded"]
    assert [event.data.object["amount_refunded"] for event in refunds] == [150, 500]
    assert refunds[1].data.object["refunded"] is True
    previous = refunds[1].data.previous_attributes
    assert previous is not None
    assert previous["amount_refunded"] == 150
    too_much = control.post(f"/_sandbox/charges/{paid['charge_id']}/refund", json={"amount": 1})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "charge_already_refunded"


def test_dispute_open_and_close(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    paid = control.post(f"/_sandbox/checkout/sessions/{_new_session(client)}/pay", json={}).json()
    opened = control.post(f"/_sandbox/charges/{paid['charge_id']}/dispute", json={}).json()
    dispute = client.v1.disputes.retrieve(opened["dispute_id"], {"expand": ["payment_intent"]})
    assert (dispute.status, dispute.amount, dispute.charge) == ("needs_response", 500, paid["charge_id"])
    assert isinstance(dispute.payment_intent, stripe.PaymentIntent)
    refund = control.post(f"/_sandbox/charges/{paid['charge_id']}/refund", json={})
    assert refund.json()["error"]["code"] == "charge_disputed"
    control.post(f"/_sandbox/disputes/{opened['dispute_id']}/close", json={"outcome": "won"})
    assert client.v1.disputes.retrieve(opened["dispute_id"]).status == "won"
    closed_again = control.post(f"/_sandbox/disputes/{opened['dispute_id']}/close", json={"outcome": "lost"})
    assert closed_again.status_code == 400
    assert [event.type for event in receiver.events()][-2:] == ["charge.dispute.created", "charge.dispute.closed"]


def test_inquiry_closes_as_warning_closed(client: stripe.StripeClient, control: httpx.Client) -> None:
    paid = control.post(f"/_sandbox/checkout/sessions/{_new_session(client)}/pay", json={}).json()
    opened = control.post(f"/_sandbox/charges/{paid['charge_id']}/dispute", json={"inquiry": True}).json()
    assert opened["object"]["status"] == "warning_needs_response"
    closed = control.post(f"/_sandbox/disputes/{opened['dispute_id']}/close", json={"outcome": "lost"}).json()
    assert closed["object"]["status"] == "warning_closed"


@pytest.mark.parametrize(("outcome", "payment_status", "intent_status", "event_type"), [
    ("succeeded", "paid", "succeeded", "checkout.session.async_payment_succeeded"),
    ("failed", "unpaid", "requires_payment_method", "checkout.session.async_payment_failed"),
])
def test_delayed_payment_outcomes(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver,
                                  outcome: str, payment_status: str, intent_status: str, event_type: str) -> None:
    session_id = _new_session(client)
    control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={"delayed": True})
    pending = client.v1.checkout.sessions.retrieve(session_id, {"expand": ["payment_intent"]})
    assert (pending.status, pending.payment_status) == ("complete", "unpaid")
    assert isinstance(pending.payment_intent, stripe.PaymentIntent)
    assert pending.payment_intent.status == "processing"
    control.post(f"/_sandbox/checkout/sessions/{session_id}/async-payment", json={"outcome": outcome})
    settled = client.v1.checkout.sessions.retrieve(session_id, {"expand": ["payment_intent"]})
    assert settled.payment_status == payment_status
    assert isinstance(settled.payment_intent, stripe.PaymentIntent)
    assert settled.payment_intent.status == intent_status
    assert [event.type for event in receiver.events()] == ["checkout.session.completed", event_type]


def test_expire_only_open_sessions(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    session_id = _new_session(client)
    expired = control.post(f"/_sandbox/checkout/sessions/{session_id}/expire", json={}).json()
    assert expired["object"]["status"] == "expired"
    assert expired["object"]["url"] is None
    assert control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={}).status_code == 400
    assert control.post(f"/_sandbox/checkout/sessions/{session_id}/expire", json={}).status_code == 400
    assert [event.type for event in receiver.events()] == ["checkout.session.expired"]


def test_declined_card_via_control(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    session_id = _new_session(client)
    declined = control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={"card": "4000000000000002"})
    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "card_declined"
    assert client.v1.checkout.sessions.retrieve(session_id).status == "open"
    assert receiver.events() == []


def test_delivery_knob_limits(client: stripe.StripeClient, control: httpx.Client) -> None:
    session_id = _new_session(client)
    response = control.post(f"/_sandbox/checkout/sessions/{session_id}/pay", json={"duplicate": 0})
    assert response.status_code == 400
    assert "duplicate" in response.json()["error"]["message"]
    unknown = control.post("/_sandbox/deliveries", json={"event_ids": ["evt_missing"]})
    assert unknown.status_code == 404

