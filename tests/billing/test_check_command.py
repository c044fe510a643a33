"""`python -m falflow.billing.check` against a clean and a corrupted database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import update

from falflow.billing.models import CreditAccount
from falflow.billing.purchase_models import Purchase
from tests.billing.harness import BillingHarness

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _run_check(database_url: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FALFLOW_")}
    environment["FALFLOW_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "falflow.billing.check"], cwd=PROJECT_ROOT, env=environment,
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_check_clean_then_corrupted(harness: BillingHarness) -> None:
    account = harness.sign_up()
    bought = harness.buy(account)
    harness.refund(bought["charge_id"], 100)
    clean = _run_check(harness.database.url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("ok:")

    user_id = uuid.UUID(account["user"]["id"])
    with harness.database.write_session() as session:
        session.execute(update(CreditAccount).where(CreditAccount.user_id == user_id)  # type: ignore[arg-type]
                        .values(balance=CreditAccount.balance + 1))
        session.add(Purchase(user_id=user_id, pack_id="starter", credits=5_000, amount_minor=500, currency="usd",
                             status="paid"))
    corrupted = _run_check(harness.database.url)
    assert corrupted.returncode == 1, corrupted.stdout + corrupted.stderr
    assert "!= ledger sum" in corrupted.stdout
    assert "expected exactly one of 5000" in corrupted.stdout
