"""Webhook delivery from the stand-in to falflow, with test knobs.

Each attempt re-signs the same body with a fresh timestamp, as Stripe does on retries. The
knobs send an event several times, send a batch all at once, or send events in a chosen
order. Events kept back are marked in the store, and a later `deliver` call sends them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from falflow.sandbox.stripe import shapes
from falflow.sandbox.stripe.signing import sign_payload
from falflow.sandbox.stripe.store import StripeStore

logger = logging.getLogger("falflow.sandbox.stripe")

MAX_DUPLICATES = 20


@dataclass(frozen=True)
class DeliveryOptions:
    """How to send a batch: `duplicate` copies of each event, one after another or all concurrently."""

    duplicate: int = 1
    concurrent: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.duplicate <= MAX_DUPLICATES:
            raise ValueError(f"duplicate must be between 1 and {MAX_DUPLICATES}, got {self.duplicate}")


@dataclass(frozen=True)
class DeliveryAttempt:
    event_id: str
    event_type: str
    status_code: int | None
    error: str | None = None


class WebhookDeliverer:
    """Sends signed events from `store` to one webhook URL."""

    def __init__(self, store: StripeStore, *, webhook_url: str | None, secret: str, timeout_seconds: float = 30.0) -> None:
        self.store = store
        self.webhook_url = webhook_url
        self._secret = secret
        self._timeout = timeout_seconds

    async def deliver(self, event_ids: Sequence[str], options: DeliveryOptions | None = None) -> list[DeliveryAttempt]:
        """Send the events in the given order; returns one attempt per send, in send order."""
        options = options or DeliveryOptions()
        url = self.webhook_url
        if url is None:
            return []
        plan = [self.store.get_event(event_id).id for event_id in event_ids for _ in range(options.duplicate)]
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            if options.concurrent:
                return list(await asyncio.gather(*(self._send(client, url, event_id) for event_id in plan)))
            return [await self._send(client, url, event_id) for event_id in plan]

    async def _send(self, client: httpx.AsyncClient, url: str, event_id: str) -> DeliveryAttempt:
        record = self.store.get_event(event_id)
        body = json.dumps(shapes.event_json(record), indent=2).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign_payload(body, self._secret),
            "User-Agent": "falflow-stripe-standin/1.0",
        }
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self.store.record_delivery(event_id, succeeded=False)
            logger.warning("stripe_standin.delivery.failed", extra={"event_id": event_id, "error_class": type(exc).__name__})
            return DeliveryAttempt(event_id, record.type, None, f"{type(exc).__name__}: {exc}")
        succeeded = 200 <= response.status_code < 300
        self.store.record_delivery(event_id, succeeded=succeeded)
        if not succeeded:
            logger.warning("stripe_standin.delivery.rejected",
                           extra={"event_id": event_id, "status_code": response.status_code})
        return DeliveryAttempt(event_id, record.type, response.status_code)
