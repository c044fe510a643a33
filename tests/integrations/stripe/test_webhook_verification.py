"""`StripeGateway.construct_event`: signature, freshness and payload checks."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from falflow.integrations.stripe.errors import WebhookPayloadError, WebhookSignatureError
from falflow.integrations.stripe.gateway import WEBHOOK_TOLERANCE_SECONDS, StripeGateway
from tests.integrations.stripe.conftest import WEBHOOK_SECRET

EVENT = {
    "id": "evt_test_1",
    "object": "event",
    "api_version": "2026-10-28.endive",
    "created": 1_700_000_000,
    "livemode": False,
    "type": "checkout.session.completed",
    "data": {"object": {"id": "cs_test_1", "object": "checkout.session", "metadata": {"purchase_id": "p"}}},
}
BODY = json.dumps(EVENT, indent=2).encode()


def _sign(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return str(stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=timestamp))


def test_valid_event_parsed(gateway: StripeGateway) -> None:
    event = gateway.construct_event(BODY, _sign(BODY))
    assert (event.id, event.type, event.object_id, event.livemode) == (
        "evt_test_1", "checkout.session.completed", "cs_test_1", False)
    assert event.api_version == "2026-10-28.endive"
    assert event.created == 1_700_000_000
    assert event.payload["data"]["object"]["metadata"] == {"purchase_id": "p"}
    assert json.loads(json.dumps(event.payload)) == EVENT


@pytest.mark.parametrize("case", ["missing", "garbage", "wrong secret", "stale", "reserialised", "v0 only"])
def test_bad_signatures(gateway: StripeGateway, case: str) -> None:
    body = BODY
    signature: str | None = _sign(BODY)
    if case == "missing":
        signature = None
    elif case == "garbage":
        signature = "t=abc,v1=zzz"
    elif case == "wrong secret":
        signature = _sign(BODY, secret="whsec_other")
    elif case == "stale":
        signature = _sign(BODY, timestamp=int(time.time()) - WEBHOOK_TOLERANCE_SECONDS - 1)
    elif case == "reserialised":
        body = json.dumps(EVENT).encode()
    elif case == "v0 only":
        signature = _sign(BODY).replace("v1=", "v0=")
    with pytest.raises(WebhookSignatureError) as caught:
        gateway.construct_event(body, signature)
    assert caught.value.status_code == 400
    assert WEBHOOK_SECRET not in caught.value.detail


def test_rotation_extra_signature_accepted(gateway: StripeGateway) -> None:
    header = _sign(BODY) + ",v1=" + "0" * 64
    assert gateway.construct_event(BODY, header).id == "evt_test_1"


def test_tolerance_is_five_minutes() -> None:
    assert WEBHOOK_TOLERANCE_SECONDS == 300


def test_signed_body_without_event_fields(gateway: StripeGateway) -> None:
    body = b'{"object": "event", "data": {}}'
    with pytest.raises(WebhookPayloadError):
        gateway.construct_event(body, _sign(body))
    with pytest.raises(WebhookPayloadError):
        gateway.construct_event(b"[1, 2", _sign(b"[1, 2"))
