"""Sandbox start-up: the generated webhook secret and where the stand-in sends events."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from falflow.sandbox.stripe.wiring import load_or_create_webhook_secret, start_sandbox_stripe, webhook_secret_path
from falflow.settings import Settings


def test_secret_created_once(tmp_path: Path) -> None:
    first = load_or_create_webhook_secret(tmp_path)
    second = load_or_create_webhook_secret(tmp_path)
    assert first == second
    assert first.startswith("whsec_")
    assert len(first) > 40
    mode = stat.S_IMODE(webhook_secret_path(tmp_path).stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in webhook_secret_path(tmp_path).parent.iterdir()] == ["stripe_webhook_secret"]


def test_secret_file_with_bad_content(tmp_path: Path) -> None:
    path = webhook_secret_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("not-a-secret")
    with pytest.raises(ValueError, match="whsec_"):
        load_or_create_webhook_secret(tmp_path)


def test_start_sandbox_targets_own_webhook(tmp_path: Path) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path, "public_url": "http://localhost:3999/"})
    standin = start_sandbox_stripe(settings)
    try:
        assert standin.url.startswith("http://127.0.0.1:")
        assert standin.deliverer.webhook_url == "http://localhost:3999/api/webhooks/stripe"
        assert webhook_secret_path(tmp_path).exists()
    finally:
        standin.stop()
