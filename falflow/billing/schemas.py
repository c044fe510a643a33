"""Request and response bodies of the billing API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PackPublic(BaseModel):
    id: str
    name: str
    credits: int
    amount_minor: int = Field(description="Price in the currency's minor unit (cents for USD).")
    currency: str


class PackList(BaseModel):
    packs: list[PackPublic]


class CheckoutRequest(BaseModel):
    """Only the pack is read; any amount, credits or currency sent along is ignored on purpose."""

    model_config = ConfigDict(extra="ignore")

    pack_id: str = Field(min_length=1, max_length=64)


class CheckoutResponse(BaseModel):
    url: str = Field(description="Stripe's hosted payment page; send the browser there.")
    session_id: str
    purchase_id: uuid.UUID


class PurchasePublic(BaseModel):
    id: uuid.UUID
    pack_id: str
    credits: int
    amount_minor: int
    currency: str
    status: str
    amount_refunded_minor: int
    created_at: datetime
    credited_at: datetime | None


class PurchaseList(BaseModel):
    items: list[PurchasePublic]
    limit: int
    offset: int
    next_offset: int | None


class LedgerItemPublic(BaseModel):
    id: str
    kind: str = Field(description="A ledger kind (purchase, run_charge, refund_clawback, ...), or hold / release.")
    created_at: datetime
    amount: int = Field(description="Signed credits: the balance change, or for holds and releases the change to available credits.")
    balance_after: int | None
    run_id: uuid.UUID | None
    node_id: str | None
    model: str | None = Field(description="The fal endpoint a run charge paid for.")
    purchase_id: uuid.UUID | None
    external_ref: str | None
    memo: str


class LedgerPage(BaseModel):
    balance: int
    reserved: int
    available: int
    items: list[LedgerItemPublic]
    limit: int
    offset: int
    next_offset: int | None


class WebhookReceipt(BaseModel):
    received: bool
    status: str
    duplicate: bool
