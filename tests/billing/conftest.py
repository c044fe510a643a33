"""Billing fixtures: a live API server and the Stripe stand-in delivering webhooks to it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from falflow.billing.stripe_runtime import install_stripe_gateway
from falflow.context import AppContext
from falflow.integrations.stripe.gateway import StripeGateway
from falflow.sandbox.stripe.runner import RunningStripeStandin, ServerThread, start_stripe_standin
from tests.billing.harness import BillingHarness, build_api_app

STANDIN_API_KEY = "sk_test_billing_suite"


@pytest.fixture(scope="session")
def webhook_secret() -> str:
    return f"whsec_{secrets.token_hex(24)}"


@pytest.fixture(scope="session")
def api_server() -> Iterator[str]:
    """The API app under uvicorn on 127.0.0.1; each request reads the current test's settings."""
    server = ServerThread(build_api_app(), host="127.0.0.1", port=0)
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def stripe_standin(api_server: str, webhook_secret: str) -> Iterator[RunningStripeStandin]:
    standin = start_stripe_standin(f"{api_server}/api/webhooks/stripe", webhook_secret, api_key=STANDIN_API_KEY)
    yield standin
    standin.stop()


@pytest.fixture
def harness(
    app_env: AppContext, api_server: str, stripe_standin: RunningStripeStandin, webhook_secret: str
) -> Iterator[BillingHarness]:
    gateway = StripeGateway(api_key=STANDIN_API_KEY, webhook_secret=webhook_secret, api_base=stripe_standin.url,
                            max_network_retries=0)
    install_stripe_gateway(gateway)
    with httpx.Client(base_url=api_server, timeout=30) as api, httpx.Client(base_url=stripe_standin.url, timeout=30) as control:
        yield BillingHarness(api=api, control=control, standin=stripe_standin, context=app_env,
                             webhook_secret=webhook_secret)
    install_stripe_gateway(None)
