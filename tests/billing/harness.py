"""A live falflow API plus the Stripe stand-in, both on 127.0.0.1, for billing tests.

The API runs under uvicorn on a free port so the stand-in can deliver webhooks to it over
real HTTP; test code talks to both with httpx. Events are signed the way Stripe signs them.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import stripe
from sqlmodel import col, select
from starlette.applications import Starlette

from falflow.accounts.models import User
from falflow.billing import ledger
from falflow.billing.models import LedgerEntry
from falflow.billing.purchase_models import Purchase, StripeEventRecord
from falflow.context import AppContext
from falflow.kit.db import Database
from falflow.sandbox.stripe import shapes
from falflow.sandbox.stripe.runner import RunningStripeStandin
from tests.conftest import sign_up


def build_api_app() -> Starlette:
    """Build the production API app mounted at /api."""
    from falflow.api import create_api, mount_api

    app: Starlette = mount_api(api=create_api())
    return app


@dataclass
class BillingHarness:
    api: httpx.Client
    control: httpx.Client
    standin: RunningStripeStandin
    context: AppContext
    webhook_secret: str

    @property
    def database(self) -> Database:
        return self.context.database

    # Accounts and credits ---------------------------------------------------------------

    def sign_up(self) -> dict[str, Any]:
        """Create an account with the starter grant and a bearer token, shaped like the signup response.

        The user row is written directly, which skips the API's argon2 password hash and its
        cost of a noticeable fraction of a second per account. `sign_up_through_api` uses the route.
        """
        email = f"buyer-{uuid.uuid4().hex[:12]}@example.com"
        with self.context.database.write_session() as session:
            user = User(email=email, password_hash="!unusable")
            session.add(user)
            session.flush()
            ledger.open_credit_account(session, user.id, starter_grant=self.context.settings.grant_for_new_accounts)
        token = self.context.tokens.issue(user.id, user.token_version, "access")
        return {"user": {"id": str(user.id), "email": email}, "email": email,
                "headers": {"Authorization": f"Bearer {token}"}}

    def sign_up_through_api(self) -> dict[str, Any]:
        return sign_up(self.api)  # type: ignore[arg-type]

    def credits(self, account: dict[str, Any]) -> dict[str, int]:
        response = self.api.get("/api/me", headers=account["headers"])
        assert response.status_code == 200, response.text
        return dict(response.json()["credits"])

    def balance(self, account: dict[str, Any]) -> int:
        return self.credits(account)["balance"]

    # Checkout ---------------------------------------------------------------------------

    def checkout(self, account: dict[str, Any], pack_id: str = "starter", **extra: Any) -> dict[str, Any]:
        response = self.api.post("/api/billing/create-checkout-session", headers=account["headers"],
                                 json={"pack_id": pack_id, **extra})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def purchase(self, account: dict[str, Any], purchase_id: str) -> dict[str, Any]:
        response = self.api.get(f"/api/billing/purchases/{purchase_id}", headers=account["headers"])
        assert response.status_code == 200, response.text
        return dict(response.json())

    # Stand-in controls ----------------------------------------------------------------

    def _control(self, path: str, body: dict[str, Any] | None = None, *, expect: int = 200) -> dict[str, Any]:
        response = self.control.post(path, json=body or {})
        assert response.status_code == expect, response.text
        return dict(response.json())

    def pay(self, session_id: str, **body: Any) -> dict[str, Any]:
        return self._control(f"/_sandbox/checkout/sessions/{session_id}/pay", body)

    def settle_async(self, session_id: str, outcome: str, **knobs: Any) -> dict[str, Any]:
        return self._control(f"/_sandbox/checkout/sessions/{session_id}/async-payment", {"outcome": outcome, **knobs})

    def expire(self, session_id: str, **knobs: Any) -> dict[str, Any]:
        return self._control(f"/_sandbox/checkout/sessions/{session_id}/expire", knobs)

    def refund(self, charge_id: str, amount: int | None = None, **knobs: Any) -> dict[str, Any]:
        return self._control(f"/_sandbox/charges/{charge_id}/refund", {"amount": amount, **knobs})

    def open_dispute(self, charge_id: str, **body: Any) -> dict[str, Any]:
        return self._control(f"/_sandbox/charges/{charge_id}/dispute", body)

    def close_dispute(self, dispute_id: str, outcome: str, **knobs: Any) -> dict[str, Any]:
        return self._control(f"/_sandbox/disputes/{dispute_id}/close", {"outcome": outcome, **knobs})

    def deliver(self, event_ids: list[str], *, duplicate: int = 1, concurrent: bool = False) -> list[dict[str, Any]]:
        body = {"event_ids": event_ids, "duplicate": duplicate, "concurrent": concurrent}
        return list(self._control("/_sandbox/deliveries", body)["deliveries"])

    def buy(self, account: dict[str, Any], pack_id: str = "starter") -> dict[str, Any]:
        """Check out and pay by card with the webhook delivered; return checkout and payment details."""
        started = self.checkout(account, pack_id)
        paid = self.pay(started["session_id"])
        assert [d["status_code"] for d in paid["deliveries"]] == [200], paid["deliveries"]
        return {**started, "charge_id": paid["charge_id"], "payment_intent_id": paid["payment_intent_id"]}

    # Signed deliveries made by the test itself ------------------------------------------

    def event_payload(self, event_id: str) -> bytes:
        """Return a stand-in event exactly as Stripe would send it."""
        return json.dumps(shapes.event_json(self.standin.store.get_event(event_id)), indent=2).encode()

    def post_webhook_signature(self, body: bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
        """Sign `body` with stripe-python's own test helper."""
        return str(stripe.WebhookSignature.generate_signature_header(
            body.decode(), secret or self.webhook_secret, timestamp=timestamp or int(time.time())
        ))

    def post_webhook(
        self, body: bytes, *, secret: str | None = None, timestamp: int | None = None, signature: str | None = None
    ) -> httpx.Response:
        """POST `body` to the webhook, signed correctly unless `secret`, `timestamp` or `signature` override that."""
        headers = {"Content-Type": "application/json"}
        if signature is None:
            signature = self.post_webhook_signature(body, secret=secret, timestamp=timestamp)
        if signature:
            headers["Stripe-Signature"] = signature
        return self.api.post("/api/webhooks/stripe", content=body, headers=headers)

    # Database views ---------------------------------------------------------------------

    def ledger_entries(self, user_id: str, kind: str | None = None) -> list[LedgerEntry]:
        with self.database.read_session() as session:
            statement = select(LedgerEntry).where(col(LedgerEntry.user_id) == uuid.UUID(user_id))
            if kind is not None:
                statement = statement.where(col(LedgerEntry.kind) == kind)
            return list(session.exec(statement.order_by(col(LedgerEntry.id))).all())

    def purchase_row(self, purchase_id: str) -> Purchase:
        with self.database.read_session() as session:
            row = session.get(Purchase, uuid.UUID(purchase_id))
            assert row is not None
            return row

    def inbox(self, event_id: str) -> StripeEventRecord | None:
        with self.database.read_session() as session:
            return session.get(StripeEventRecord, event_id)

    def inbox_count(self) -> int:
        with self.database.read_session() as session:
            return len(session.exec(select(StripeEventRecord.id)).all())
