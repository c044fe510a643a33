"""Stripe's webhook signature scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.

The MAC covers `"<t>.<raw body>"` keyed with the whole endpoint secret (`whsec_...` included),
which is what `stripe.WebhookSignature.verify_header` checks.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def sign_payload(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """Return a `Stripe-Signature` header value for `payload`, stamped now unless `timestamp` is given."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"
