"""The Stripe API routes falflow's gateway calls, served from the in-memory store.

Requests must carry `Authorization: Bearer sk_test_...` (the configured key when one is set).
`POST /v1/checkout/sessions` honours `Idempotency-Key`: the same key with the same parameters
replays the first response, and the same key with other parameters gets Stripe's
`idempotency_error`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from falflow.sandbox.stripe import shapes
from falflow.sandbox.stripe.forms import FormDecodeError, decode_form
from falflow.sandbox.stripe.records import IdempotentResult
from falflow.sandbox.stripe.store import StandinRequestError, StripeStore

_EXPANDABLE = {"payment_intent"}
_MAX_LIST_LIMIT = 100


def _authenticate(request: Request, expected_key: str | None) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise StandinRequestError(401, "invalid_request_error",
                                  "No API key provided; send 'Authorization: Bearer sk_test_...'.")
    if not key.startswith("sk_test_"):
        raise StandinRequestError(401, "invalid_request_error",
                                  "The Stripe stand-in accepts secret test keys (sk_test_...) only.")
    if expected_key is not None and key != expected_key:
        raise StandinRequestError(401, "invalid_request_error", "Invalid API key for this Stripe stand-in.")
    return key


def _query(request: Request) -> dict[str, Any]:
    try:
        return decode_form(request.query_params.multi_items())
    except FormDecodeError as exc:
        raise StandinRequestError(400, "invalid_request_error", str(exc), param=exc.key) from None


def _expand_payment_intent(request: Request) -> bool:
    expand = _query(request).get("expand") or []
    if not isinstance(expand, list):
        raise StandinRequestError(400, "invalid_request_error", "expand must be a list, as in expand[0]=payment_intent.",
                                  param="expand")
    unknown = [str(path) for path in expand if path not in _EXPANDABLE]
    if unknown:
        raise StandinRequestError(400, "invalid_request_error",
                                  f"The stand-in cannot expand {', '.join(unknown)}; only payment_intent.", param="expand")
    return "payment_intent" in expand


def build_api_router(store: StripeStore, *, api_key: str | None) -> APIRouter:
    """Build the `/v1` routes over `store`; `api_key` None accepts any sk_test_ key."""
    router = APIRouter(prefix="/v1")

    @router.post("/checkout/sessions")
    async def create_checkout_session(request: Request) -> JSONResponse:
        key = _authenticate(request, api_key)
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
        fingerprint = tuple(sorted(pairs))
        idempotency_key = request.headers.get("idempotency-key")
        if idempotency_key:
            remembered = store.recall(key, idempotency_key, fingerprint)
            if remembered is not None:
                return JSONResponse(remembered.body, status_code=remembered.status_code,
                                    headers={"Idempotent-Replayed": "true", "Idempotency-Key": idempotency_key})
        try:
            record = store.create_session(decode_form(pairs))
            status_code, body = 200, store.render_session(record)
        except FormDecodeError as exc:
            status_code, body = 400, shapes.error_body("invalid_request_error", str(exc), param=exc.key)
        except StandinRequestError as exc:
            status_code, body = exc.status_code, exc.body
        headers = {}
        if idempotency_key:
            # Stripe replays validation failures too; only server errors are retried afresh.
            store.remember(key, idempotency_key, IdempotentResult(fingerprint, status_code, body))
            headers["Idempotency-Key"] = idempotency_key
        return JSONResponse(body, status_code=status_code, headers=headers)

    @router.get("/checkout/sessions/{session_id}")
    async def retrieve_checkout_session(session_id: str, request: Request) -> dict[str, Any]:
        _authenticate(request, api_key)
        expand = _expand_payment_intent(request)
        return store.render_session(store.get_session(session_id), expand_payment_intent=expand)

    @router.get("/payment_intents/{payment_intent_id}")
    async def retrieve_payment_intent(payment_intent_id: str, request: Request) -> dict[str, Any]:
        _authenticate(request, api_key)
        return shapes.payment_intent_json(store.get_payment_intent(payment_intent_id))

    @router.get("/charges/{charge_id}")
    async def retrieve_charge(charge_id: str, request: Request) -> dict[str, Any]:
        _authenticate(request, api_key)
        expand = _expand_payment_intent(request)
        return store.render_charge(store.get_charge(charge_id), expand_payment_intent=expand)

    @router.get("/disputes/{dispute_id}")
    async def retrieve_dispute(dispute_id: str, request: Request) -> dict[str, Any]:
        _authenticate(request, api_key)
        expand = _expand_payment_intent(request)
        return store.render_dispute(store.get_dispute(dispute_id), expand_payment_intent=expand)

    @router.get("/events/{event_id}")
    async def retrieve_event(event_id: str, request: Request) -> dict[str, Any]:
        _authenticate(request, api_key)
        return shapes.event_json(store.get_event(event_id))

    @router.get("/events")
    async def list_events(request: Request) -> dict[str, Any]:
        _authenticate(request, api_key)
        query = _query(request)
        try:
            limit = int(query.get("limit", 10))
        except ValueError:
            raise StandinRequestError(400, "invalid_request_error", "limit must be an integer.", param="limit") from None
        if not 1 <= limit <= _MAX_LIST_LIMIT:
            raise StandinRequestError(400, "invalid_request_error", f"limit must be between 1 and {_MAX_LIST_LIMIT}.",
                                      param="limit")
        success = query.get("delivery_success")
        records = store.list_events(
            event_type=query.get("type"),
            delivery_success=None if success is None else success == "true",
        )
        after = query.get("starting_after")
        if after:
            ids = [record.id for record in records]
            if after not in ids:
                raise StandinRequestError(404, "invalid_request_error", f"No such event: '{after}'",
                                          code="resource_missing", param="starting_after")
            records = records[ids.index(after) + 1:]
        page = records[:limit]
        return shapes.list_json("/v1/events", [shapes.event_json(record) for record in page],
                                has_more=len(records) > limit)

    return router
