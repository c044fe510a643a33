"""`/api/billing/*` (packs, checkout, purchases, credit history) and `/api/webhooks/stripe`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from falflow.billing import checkout_flow, history, ledger, packs
from falflow.billing import purchase_repository as purchases
from falflow.billing.purchase_models import Purchase
from falflow.billing.schemas import (
    CheckoutRequest,
    CheckoutResponse,
    LedgerItemPublic,
    LedgerPage,
    PackList,
    PackPublic,
    PurchaseList,
    PurchasePublic,
    WebhookReceipt,
)
from falflow.billing.stripe_runtime import StripeGatewayDep
from falflow.billing.webhook_processing import process_stripe_event
from falflow.integrations.stripe.errors import WebhookPayloadError, WebhookSignatureError
from falflow.kit.auth import Context, CurrentUserId
from falflow.kit.db import Database
from falflow.kit.errors import NotFoundError, PayloadTooLargeError

router = APIRouter(tags=["billing"])
webhook_router = APIRouter(tags=["webhooks"])

logger = logging.getLogger("falflow.billing")
security_logger = logging.getLogger("falflow.security")

PUBLIC: dict[str, Any] = {"security": []}
# Largest webhook body accepted; Stripe events are a few kilobytes.
MAX_WEBHOOK_BYTES = 1024 * 1024


def _purchase_public(purchase: Purchase) -> PurchasePublic:
    return PurchasePublic(
        id=purchase.id, pack_id=purchase.pack_id, credits=purchase.credits, amount_minor=purchase.amount_minor,
        currency=purchase.currency, status=purchase.status, amount_refunded_minor=purchase.amount_refunded_minor,
        created_at=purchase.created_at, credited_at=purchase.credited_at,
    )


@router.get("/billing/packs", response_model=PackList, openapi_extra=PUBLIC)
def list_packs(context: Context) -> PackList:
    """List the credit packs for sale, with their server-side prices."""
    with context.database.read_session() as session:
        rows = packs.list_active_packs(session)
    if not rows:
        with context.database.write_session() as session:
            packs.ensure_default_packs(session)
            rows = packs.list_active_packs(session)
    return PackList(packs=[
        PackPublic(id=p.id, name=p.name, credits=p.credits, amount_minor=p.amount_minor, currency=p.currency)
        for p in rows
    ])


@router.post("/billing/create-checkout-session", response_model=CheckoutResponse)
def create_checkout_session(
    body: CheckoutRequest, user_id: CurrentUserId, context: Context, gateway: StripeGatewayDep
) -> CheckoutResponse:
    """Start buying a pack; the browser goes to the returned Stripe URL to pay."""
    opened = checkout_flow.open_checkout(
        context.database, gateway, public_url=context.settings.public_url, user_id=user_id, pack_id=body.pack_id
    )
    return CheckoutResponse(url=opened.url, session_id=opened.session_id, purchase_id=opened.purchase_id)


@router.get("/billing/purchases", response_model=PurchaseList)
def list_purchases(
    user_id: CurrentUserId,
    context: Context,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PurchaseList:
    """List the caller's purchases, newest first."""
    with context.database.read_session() as session:
        rows = purchases.list_user_purchases(session, user_id, limit=limit + 1, offset=offset)
    return PurchaseList(
        items=[_purchase_public(p) for p in rows[:limit]], limit=limit, offset=offset,
        next_offset=offset + limit if len(rows) > limit else None,
    )


@router.get("/billing/purchases/{purchase_id}", response_model=PurchasePublic)
def get_purchase(purchase_id: uuid.UUID, user_id: CurrentUserId, context: Context) -> PurchasePublic:
    with context.database.read_session() as session:
        purchase = purchases.get_user_purchase(session, user_id, purchase_id)
    if purchase is None:
        raise NotFoundError.for_resource("Purchase", purchase_id)
    return _purchase_public(purchase)


@router.post("/billing/checkout-sessions/{session_id}/sync", response_model=PurchasePublic)
def sync_checkout_session(
    session_id: str, user_id: CurrentUserId, context: Context, gateway: StripeGatewayDep
) -> PurchasePublic:
    """Re-read a Checkout Session from Stripe and credit it if paid, for the checkout success page."""
    purchase = checkout_flow.sync_checkout(context.database, gateway, user_id=user_id, session_id=session_id)
    return _purchase_public(purchase)


@router.get("/billing/ledger", response_model=LedgerPage)
def list_ledger(
    user_id: CurrentUserId,
    context: Context,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    run_id: uuid.UUID | None = None,
) -> LedgerPage:
    """List the caller's credit history, newest first: purchases, holds, run charges, releases and clawbacks."""
    with context.database.read_session() as session:
        summary = ledger.get_credit_summary(session, user_id)
        rows = history.list_history(session, user_id, limit=limit + 1, offset=offset, run_id=run_id)
    items = [LedgerItemPublic(**vars(item)) for item in rows[:limit]]
    return LedgerPage(
        balance=summary.balance, reserved=summary.reserved, available=summary.available, items=items,
        limit=limit, offset=offset, next_offset=offset + limit if len(rows) > limit else None,
    )


def _stream_history_csv(database: Database, user_id: uuid.UUID) -> Iterator[str]:
    with database.read_session() as session:
        yield from history.history_csv_lines(session, user_id)


@router.get("/billing/ledger.csv", response_class=StreamingResponse)
def export_ledger_csv(user_id: CurrentUserId, context: Context) -> StreamingResponse:
    """Export the caller's whole credit history as CSV, newest first."""
    return StreamingResponse(
        _stream_history_csv(context.database, user_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="falflow-credits.csv"', "Cache-Control": "no-store"},
    )


async def _read_capped_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLargeError(f"Webhook body of {declared} bytes exceeds the {MAX_WEBHOOK_BYTES}-byte limit.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            raise PayloadTooLargeError(f"Webhook body exceeds the {MAX_WEBHOOK_BYTES}-byte limit.")
        chunks.append(chunk)
    return b"".join(chunks)


@webhook_router.post("/webhooks/stripe", response_model=WebhookReceipt, openapi_extra=PUBLIC)
async def receive_stripe_webhook(request: Request, context: Context, gateway: StripeGatewayDep) -> WebhookReceipt:
    """Receive a Stripe event, verified by its signature over the raw body instead of a bearer token."""
    raw = await _read_capped_body(request)
    try:
        event = gateway.construct_event(raw, request.headers.get("stripe-signature"))
    except (WebhookSignatureError, WebhookPayloadError):
        security_logger.warning("billing.webhook.rejected",
                                extra={"client": request.client.host if request.client else None, "bytes": len(raw)})
        raise
    outcome = await run_in_threadpool(process_stripe_event, context.database, gateway, event)
    return WebhookReceipt(received=True, status=outcome.status.value, duplicate=outcome.duplicate)
