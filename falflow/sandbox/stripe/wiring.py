"""Start-up of the Stripe stand-in for sandbox mode: its key, webhook secret and webhook URL.

The webhook secret is generated once into `<data_dir>/secrets/stripe_webhook_secret`, so the
stand-in and falflow's gateway (and a stand-in started in another process with
`python -m falflow.sandbox.stripe`) sign and verify with the same value.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from falflow.sandbox.stripe.runner import RunningStripeStandin, start_stripe_standin
from falflow.settings import Settings

# The key falflow's gateway sends to the stand-in; the stand-in accepts only this one.
SANDBOX_API_KEY = "sk_test_falflow_sandbox"
WEBHOOK_PATH = "/api/webhooks/stripe"


def webhook_secret_path(data_dir: Path) -> Path:
    return Path(data_dir) / "secrets" / "stripe_webhook_secret"


def load_or_create_webhook_secret(data_dir: Path) -> str:
    """Return the sandbox webhook secret from the data folder, creating it on first use."""
    path = webhook_secret_path(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        staging.write_text(f"whsec_{secrets.token_hex(32)}\n")
        staging.chmod(0o600)
        try:
            # link() fails if the file exists, so two processes starting together keep one secret.
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    secret = path.read_text().strip()
    if not secret.startswith("whsec_"):
        raise ValueError(f"{path} does not hold a whsec_ secret; delete the file to generate a new one")
    return secret


def sandbox_webhook_secret(settings: Settings) -> str:
    """Return the secret sandbox webhooks are signed with: the configured one, else the generated one."""
    if settings.stripe_webhook_secret is not None and settings.stripe_webhook_secret.get_secret_value():
        return settings.stripe_webhook_secret.get_secret_value()
    return load_or_create_webhook_secret(settings.data_dir)


def start_sandbox_stripe(settings: Settings, *, port: int = 0, app_url: str | None = None) -> RunningStripeStandin:
    """Start the stand-in on 127.0.0.1, delivering events to this app's own webhook route.

    Events go to `{app_url}/api/webhooks/stripe`, where `app_url` defaults to `public_url`.
    Pass the backend's own address when `public_url` does not route `/api` to this process.
    """
    return start_stripe_standin(
        f"{(app_url or settings.public_url).rstrip('/')}{WEBHOOK_PATH}",
        sandbox_webhook_secret(settings),
        port=port,
        api_key=SANDBOX_API_KEY,
    )
