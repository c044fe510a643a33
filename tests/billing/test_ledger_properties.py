"""Property test: random purchases, run holds and Stripe events keep the books consistent.

Each example signs up one user, then runs a random sequence of checkouts (card, delayed
success or failure, expiry), refunds, disputes, run holds, charges and releases. Stripe events
are held back and delivered in random batches, reversed or duplicated; whatever is left is
delivered at the end in reverse order. Afterwards the ledger invariants must hold and the
balance must equal what Stripe's final state implies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from falflow.billing import ledger
from falflow.billing.invariants import find_billing_violations
from falflow.kit.errors import PaymentRequiredError
from tests.billing.harness import BillingHarness

STARTER_GRANT = 2_000
PACKS = {"starter": (5_000, 500), "creator": (12_000, 1_000), "studio": (30_000, 2_500)}

LAST = -1  # an index that picks the most recent charge or dispute

deliver = st.tuples(st.just("deliver"), st.integers(1, 4), st.integers(1, 2), st.booleans())
hold = st.tuples(st.just("hold"), st.integers(0, 9_000))
charge = st.tuples(st.just("charge"), st.integers(0, 9), st.integers(1, 4_000))
release = st.tuples(st.just("release"), st.integers(0, 9))
refund_any = st.tuples(st.just("refund"), st.integers(0, 9), st.sampled_from([0.3, 0.5, 1.0]))


@st.composite
def purchase_story(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """One purchase and what later happens to its charge, with unrelated steps mixed in."""
    how = draw(st.sampled_from(["card", "card", "card", "delayed_ok", "delayed_fail", "expire"]))
    steps: list[tuple[Any, ...]] = [("buy", draw(st.sampled_from(sorted(PACKS))), how)]
    for fraction in draw(st.lists(st.sampled_from([0.3, 0.5, 1.0]), max_size=2)):
        steps.append(("refund", LAST, fraction))
    kind = draw(st.sampled_from([None, "inquiry", "chargeback", "chargeback"]))
    if kind is not None:
        steps.append(("dispute", LAST, kind == "inquiry"))
        outcome = draw(st.sampled_from([None, "won", "lost"]))
        if outcome is not None:
            steps.append(("close", LAST, outcome == "won"))
    extras = draw(st.lists(st.one_of(deliver, hold, charge, release, refund_any), max_size=4))
    for extra in extras:
        steps.insert(draw(st.integers(0, len(steps))), extra)
    return steps


operations = st.lists(purchase_story(), min_size=1, max_size=3).map(lambda stories: [s for story in stories for s in story])


@dataclass
class Scenario:
    harness: BillingHarness
    account: dict[str, Any]
    user_id: uuid.UUID
    held_events: list[str] = field(default_factory=list)
    charges: list[str] = field(default_factory=list)
    disputes: list[str] = field(default_factory=list)
    holds: list[uuid.UUID] = field(default_factory=list)
    charged_total: int = 0

    def control(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Send a stand-in control call with the event held back; None when Stripe rejects it."""
        response = self.harness.control.post(path, json={**body, "deliver": False})
        if response.status_code == 400:
            return None
        assert response.status_code == 200, response.text
        result = dict(response.json())
        self.held_events.append(result["event_id"])
        return result

    def run(self, operation: tuple[Any, ...]) -> None:
        getattr(self, f"do_{operation[0]}")(*operation[1:])

    def do_buy(self, pack_id: str, how: str) -> None:
        started = self.harness.checkout(self.account, pack_id)
        path = f"/_sandbox/checkout/sessions/{started['session_id']}"
        if how == "expire":
            self.control(f"{path}/expire", {})
            return
        paid = self.control(f"{path}/pay", {"delayed": how != "card"})
        assert paid is not None
        if how == "card":
            self.charges.append(paid["charge_id"])
            return
        settled = self.control(f"{path}/async-payment", {"outcome": "succeeded" if how == "delayed_ok" else "failed"})
        assert settled is not None
        if settled["charge_id"]:
            self.charges.append(settled["charge_id"])

    def do_refund(self, index: int, fraction: float) -> None:
        if not self.charges:
            return
        charge = self.harness.standin.store.get_charge(self.charges[index % len(self.charges)])
        remaining = charge.amount - charge.amount_refunded
        amount = min(remaining, max(1, round(charge.amount * fraction)))
        if amount > 0:
            self.control(f"/_sandbox/charges/{charge.id}/refund", {"amount": amount})

    def do_dispute(self, index: int, inquiry: bool) -> None:
        if not self.charges:
            return
        result = self.control(f"/_sandbox/charges/{self.charges[index % len(self.charges)]}/dispute", {"inquiry": inquiry})
        if result is not None:
            self.disputes.append(result["dispute_id"])

    def do_close(self, index: int, won: bool) -> None:
        if self.disputes:
            dispute_id = self.disputes[index % len(self.disputes)]
            self.control(f"/_sandbox/disputes/{dispute_id}/close", {"outcome": "won" if won else "lost"})

    def do_deliver(self, count: int, duplicate: int, reverse: bool) -> None:
        batch, self.held_events = self.held_events[:count], self.held_events[count:]
        if batch:
            attempts = self.harness.deliver(list(reversed(batch)) if reverse else batch, duplicate=duplicate)
            assert {attempt["status_code"] for attempt in attempts} == {200}, attempts

    def do_hold(self, amount: int) -> None:
        with self.harness.database.read_session() as session:
            available = ledger.get_credit_summary(session, self.user_id).available
        try:
            with self.harness.database.write_session() as session:
                reservation = ledger.reserve_credits(session, user_id=self.user_id, run_id=uuid.uuid4(), amount=amount)
        except PaymentRequiredError:
            assert available < amount, f"a hold of {amount} was refused with {available} available"
            return
        assert available >= amount, f"a hold of {amount} overdrew {available} available credits"
        self.holds.append(reservation.id)

    def do_charge(self, index: int, amount: int) -> None:
        if self.holds:
            reservation_id = self.holds[index % len(self.holds)]
            with self.harness.database.write_session() as session:
                self.charged_total += ledger.charge_reservation(
                    session, reservation_id=reservation_id, amount=amount,
                    idempotency_key=f"run:{reservation_id}:{uuid.uuid4()}:charge",
                )

    def do_release(self, index: int) -> None:
        if self.holds:
            with self.harness.database.write_session() as session:
                ledger.release_reservation(session, reservation_id=self.holds[index % len(self.holds)])

    def expected_balance(self) -> int:
        """Compute the balance Stripe's final state implies, independently of falflow's code."""
        store = self.harness.standin.store
        balance = STARTER_GRANT - self.charged_total
        for charge_id in self.charges:
            charge = store.get_charge(charge_id)
            intent = store.get_payment_intent(charge.payment_intent)
            credits = int(intent.metadata["credits"])
            refunded = credits * charge.amount_refunded // charge.amount
            balance += credits - refunded
            if charge.dispute is not None:
                dispute = store.get_dispute(charge.dispute)
                if dispute.status in {"needs_response", "under_review", "lost"}:
                    balance -= min(credits * dispute.amount // charge.amount, credits - refunded)
        return balance


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=operations)
def test_random_histories_keep_books(harness: BillingHarness, steps: list[tuple[Any, ...]]) -> None:
    account = harness.sign_up()
    scenario = Scenario(harness, account, uuid.UUID(account["user"]["id"]))
    for step in steps:
        scenario.run(step)
    scenario.do_deliver(len(scenario.held_events), 1, True)
    with harness.database.read_session() as session:
        assert find_billing_violations(session) == []
        summary = ledger.get_credit_summary(session, scenario.user_id)
    assert summary.balance == scenario.expected_balance()
    assert summary.reserved >= 0
