"""The hosted payment page: what it shows, a decline, a payment and the cancel link."""

from __future__ import annotations

import html

import httpx
import stripe

from falflow.sandbox.stripe.checkout_page import format_amount
from tests.sandbox.stripe.conftest import Receiver, session_params


def test_page_shows_pack_amount_and_test_card(client: stripe.StripeClient, control: httpx.Client) -> None:
    session = client.v1.checkout.sessions.create(session_params(customer_email="buyer@example.com"))  # type: ignore[arg-type]
    page = control.get(f"/checkout/{session.id}")
    assert page.status_code == 200
    assert "Starter: 5,000 credits" in page.text
    assert "USD 5.00" in page.text
    assert "value='4242 4242 4242 4242'" in page.text
    assert "4000 0000 0000 0002" in page.text
    assert "value='buyer@example.com'" in page.text
    assert f"href='{html.escape('http://localhost:3000/billing?checkout=cancelled', quote=True)}'" in page.text


def test_page_escapes_product_name(client: stripe.StripeClient, control: httpx.Client) -> None:
    items = [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 500,
                                            "product_data": {"name": "<script>alert(1)</script>"}}}]
    session = client.v1.checkout.sessions.create(session_params(line_items=items))  # type: ignore[arg-type]
    page = control.get(f"/checkout/{session.id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_pay_redirects_after_delivery(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(session_params())  # type: ignore[arg-type]
    response = control.post(f"/checkout/{session.id}/pay", data={"card": "4242 4242 4242 4242"})
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"http://localhost:3000/billing?checkout=success&session_id={session.id}"
    )
    assert [event.type for event in receiver.events()] == ["checkout.session.completed"]
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    closed = control.get(f"/checkout/{session.id}")
    assert closed.status_code == 409
    assert "complete" in closed.text


def test_decline_card_shows_message(client: stripe.StripeClient, control: httpx.Client, receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(session_params())  # type: ignore[arg-type]
    response = control.post(f"/checkout/{session.id}/pay", data={"card": "4000 0000 0000 0002"})
    assert response.status_code == 402
    assert "Your card was declined" in response.text
    assert "value='4000 0000 0000 0002'" in response.text
    assert receiver.events() == []
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_invalid_card_number_rejected(client: stripe.StripeClient, control: httpx.Client) -> None:
    session = client.v1.checkout.sessions.create(session_params())  # type: ignore[arg-type]
    response = control.post(f"/checkout/{session.id}/pay", data={"card": "1234 5678"})
    assert response.status_code == 402
    assert "invalid" in response.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_unknown_session_page_404(control: httpx.Client) -> None:
    assert control.get("/checkout/cs_test_missing").status_code == 404


def test_format_amount_units() -> None:
    assert format_amount(1000, "usd") == "USD 10.00"
    assert format_amount(5, "eur") == "EUR 0.05"
    assert format_amount(1500, "jpy") == "JPY 1,500"
