"""Billing start-up: gateway construction per mode and the sandbox wiring end to end."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from falflow.billing.packs import list_active_packs
from falflow.billing.stripe_runtime import build_stripe_gateway, get_stripe_gateway, start_billing
from falflow.context import AppContext
from falflow.kit.errors import ConfigurationError, ServiceUnavailableError
from falflow.sandbox.stripe.wiring import webhook_secret_path
from falflow.settings import Settings
from tests.conftest import sign_up


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings.model_validate({"data_dir": tmp_path, **values})


def test_live_gateway_needs_webhook_secret(tmp_path: Path) -> None:
    settings = _settings(tmp_path, stripe_secret_key=SecretStr("sk_live_abc"))
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET"):
        build_stripe_gateway(settings, None)
    configured = _settings(tmp_path, stripe_secret_key=SecretStr("sk_live_abc"),
                           stripe_webhook_secret=SecretStr("whsec_live"))
    gateway = build_stripe_gateway(configured, "http://127.0.0.1:1")
    assert gateway.livemode is True
    assert gateway.api_base is None


def test_sandbox_gateway_needs_standin_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="FALFLOW_SANDBOX_STRIPE_URL"):
        build_stripe_gateway(_settings(tmp_path), None)
    gateway = build_stripe_gateway(_settings(tmp_path), "http://127.0.0.1:1")
    assert gateway.api_base == "http://127.0.0.1:1"
    assert gateway.livemode is False
    assert webhook_secret_path(tmp_path).exists()


def test_start_billing_sandbox_end_to_end(app_env: AppContext, api_server: str) -> None:
    runtime = start_billing(app_env.settings, app_env.database, app_url=api_server)
    try:
        assert runtime.standin is not None
        assert get_stripe_gateway() is runtime.gateway
        assert runtime.gateway.api_base == runtime.standin.url
        assert runtime.standin.deliverer.webhook_url == f"{api_server}/api/webhooks/stripe"
        with app_env.database.read_session() as session:
            assert [pack.id for pack in list_active_packs(session)] == ["starter", "creator", "studio"]
        with httpx.Client(base_url=api_server, timeout=30) as api:
            account = sign_up(api)  # type: ignore[arg-type]
            started = api.post("/api/billing/create-checkout-session", headers=account["headers"],
                               json={"pack_id": "starter"}).json()
            paid = httpx.post(f"{runtime.standin.url}/_sandbox/checkout/sessions/{started['session_id']}/pay", json={})
            assert paid.json()["deliveries"][0]["status_code"] == 200
            me = api.get("/api/me", headers=account["headers"]).json()
        assert me["credits"]["balance"] == app_env.settings.grant_for_new_accounts + 5_000
    finally:
        runtime.stop()
    with pytest.raises(ServiceUnavailableError):
        get_stripe_gateway()
