"""A local stand-in for the Stripe API routes falflow uses, for sandbox mode and tests."""

from __future__ import annotations

from falflow.sandbox.stripe.runner import RunningStripeStandin, start_stripe_standin

__all__ = ["RunningStripeStandin", "start_stripe_standin"]
