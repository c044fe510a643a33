"""The process-wide Stripe gateway and billing start-up.

Start-up code calls `start_billing(settings, database)` once (and `stop()` on the result at
shut-down). It seeds the credit packs, starts the Stripe stand-in in sandbox mode when no
`FALFLOW_SANDBOX_STRIPE_URL` is given, builds the gateway and installs it, after which the
billing endpoints get it through `get_stripe_gateway()`. Tests may call
`install_stripe_gateway()` directly or override the `get_stripe_gateway` dependency.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from falflow.billing.packs import ensure_default_packs
from falflow.integrations.stripe.gateway import StripeGateway
from falflow.kit.db import Database
from falflow.kit.errors import ConfigurationError, ServiceUnavailableError
from falflow.sandbox.stripe.runner import RunningStripeStandin
from falflow.sandbox.stripe.wiring import SANDBOX_API_KEY, sandbox_webhook_secret, start_sandbox_stripe
from falflow.settings import Mode, Settings

logger = logging.getLogger("falflow.billing")

_installed: StripeGateway | None = None


def build_stripe_gateway(settings: Settings, sandbox_url: str | None) -> StripeGateway:
    """Build the gateway for the configured mode; sandbox mode talks to `sandbox_url`."""
    api_key = settings.stripe_secret_key.get_secret_value() if settings.stripe_secret_key else ""
    if api_key:
        secret = settings.stripe_webhook_secret.get_secret_value() if settings.stripe_webhook_secret else ""
        if not secret:
            raise ConfigurationError(
                "STRIPE_WEBHOOK_SECRET is not set but STRIPE_SECRET_KEY is; copy the whsec_ signing secret of "
                "the webhook endpoint for <public_url>/api/webhooks/stripe from the Stripe dashboard."
            )
        return StripeGateway(api_key=api_key, webhook_secret=secret)
    if not sandbox_url:
        raise ConfigurationError(
            "Stripe runs in sandbox mode but no stand-in URL was given; start one with start_sandbox_stripe() "
            "or set FALFLOW_SANDBOX_STRIPE_URL."
        )
    return StripeGateway(api_key=SANDBOX_API_KEY, webhook_secret=sandbox_webhook_secret(settings), api_base=sandbox_url)


def install_stripe_gateway(gateway: StripeGateway | None) -> None:
    """Make `gateway` the one the endpoints use; None uninstalls it."""
    global _installed
    _installed = gateway


def get_stripe_gateway() -> StripeGateway:
    """Return the installed gateway (a FastAPI dependency), or raise 503 if start-up did not install one."""
    if _installed is None:
        raise ServiceUnavailableError(
            "Payments are not configured in this process; the app's start-up must call "
            "falflow.billing.stripe_runtime.start_billing()."
        )
    return _installed


StripeGatewayDep = Annotated[StripeGateway, Depends(get_stripe_gateway)]


@dataclass
class BillingRuntime:
    gateway: StripeGateway
    standin: RunningStripeStandin | None

    def stop(self) -> None:
        install_stripe_gateway(None)
        if self.standin is not None:
            self.standin.stop()


def start_billing(settings: Settings, database: Database, *, app_url: str | None = None) -> BillingRuntime:
    """Seed the packs, start the sandbox stand-in if needed, and install the gateway.

    `app_url` is where the stand-in delivers webhooks (`{app_url}/api/webhooks/stripe`); it
    defaults to `settings.public_url`.
    """
    with database.write_session() as session:
        ensure_default_packs(session)
    standin: RunningStripeStandin | None = None
    sandbox_url = settings.sandbox_stripe_url
    if settings.stripe_mode is Mode.SANDBOX and not sandbox_url:
        standin = start_sandbox_stripe(settings, app_url=app_url)
        sandbox_url = standin.url
    gateway = build_stripe_gateway(settings, sandbox_url)
    install_stripe_gateway(gateway)
    logger.info("billing.started", extra={"stripe_mode": settings.stripe_mode.value, "stripe_api": sandbox_url or "stripe"})
    return BillingRuntime(gateway=gateway, standin=standin)
