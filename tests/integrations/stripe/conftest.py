"""Gateway fixtures: the real `StripeGateway` pointed at the Stripe stand-in on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from falflow.integrations.stripe.gateway import StripeGateway
from falflow.sandbox.stripe.runner import RunningStripeStandin, start_stripe_standin

API_KEY = "sk_test_gateway_suite"
WEBHOOK_SECRET = "whsec_gateway_suite_secret"


@pytest.fixture(scope="session")
def standin() -> Iterator[RunningStripeStandin]:
    running = start_stripe_standin(None, WEBHOOK_SECRET, api_key=API_KEY)
    yield running
    running.stop()


@pytest.fixture
def gateway(standin: RunningStripeStandin) -> StripeGateway:
    return StripeGateway(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=standin.url, max_network_retries=0)


@pytest.fixture
def control(standin: RunningStripeStandin) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=standin.url, timeout=30) as http:
        yield http
