"""Stand-in fixtures: the Stripe stand-in delivering to a recording webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import stripe
from fastapi import FastAPI, Request, Response

from falflow.sandbox.stripe.runner import RunningStripeStandin, ServerThread, start_stripe_standin

API_KEY = "sk_test_standin_suite"
WEBHOOK_SECRET = "whsec_standin_suite_secret"


@dataclass
class Receiver:
    """A webhook endpoint that stores every delivery and responds with `status_code`."""

    url: str = ""
    status_code: int = 200
    deliveries: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[stripe.Event]:
        """Verify every stored delivery with stripe-python and return the parsed events."""
        with self.lock:
            stored = list(self.deliveries)
        return [stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET) for body, signature in stored]

    def clear(self) -> None:
        with self.lock:
            self.deliveries.clear()
        self.status_code = 200


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        with state.lock:
            state.deliveries.append((body, request.headers.get("stripe-signature", "")))
        return Response(status_code=state.status_code)

    server = ServerThread(app, host="127.0.0.1", port=0)
    state.url = server.start()
    yield state
    server.stop()


@pytest.fixture(scope="session")
def session_standin(receiver: Receiver) -> Iterator[RunningStripeStandin]:
    standin = start_stripe_standin(f"{receiver.url}/hook", WEBHOOK_SECRET, api_key=API_KEY)
    yield standin
    standin.stop()


@pytest.fixture
def standin(session_standin: RunningStripeStandin, receiver: Receiver) -> RunningStripeStandin:
    receiver.clear()
    return session_standin


@pytest.fixture
def client(standin: RunningStripeStandin) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": standin.url}, max_network_retries=0)


@pytest.fixture
def control(standin: RunningStripeStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=standin.url, timeout=30) as http:
        yield http


def session_params(**overrides: object) -> dict[str, object]:
    """Checkout Session parameters shaped like falflow's, with optional overrides."""
    metadata = {"purchase_id": "p-1", "user_id": "u-1", "pack_id": "starter", "credits": "5000"}
    params: dict[str, object] = {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 500,
                                                      "product_data": {"name": "Starter: 5,000 credits"}}}],
        "client_reference_id": "p-1",
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": "http://localhost:3000/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://localhost:3000/billing?checkout=cancelled",
    }
    params.update(overrides)
    return params
