"""Credits: the ledger, run holds, and buying credit packs through Stripe Checkout.

Layout:
- `models`, `ledger`: the credit account, the append-only ledger and run holds.
- `purchase_models`: credit packs, purchases and the Stripe event inbox (tables).
- `packs`, `checkout`, `checkout_flow`: the catalog and starting a purchase.
- `stripe_sync`, `fulfillment`, `clawbacks`: converging purchases on Stripe's state.
- `webhook_processing`, `event_inbox`: handling one verified webhook event once.
- `history`: the credit history read model (JSON pages and CSV).
- `invariants`, `check`: the consistency checks behind `python -m falflow.billing.check`.
- `stripe_runtime`: the process-wide Stripe gateway and billing start-up.
- `endpoints`, `schemas`: the HTTP API under `/api/billing` and `/api/webhooks/stripe`.
- `purchase_repository`, `ledger_reads`: SQL used by the services above.
"""
