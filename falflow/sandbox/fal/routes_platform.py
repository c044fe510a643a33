"""fal's Platform API for model metadata and prices: ``GET /v1/models`` and ``GET /v1/models/pricing``.

Both routes read the bundled catalog. Each endpoint's price is the catalog's own price restated in fal's
unit names (a "5-second video" price becomes a price per second). Endpoints whose price the catalog does
not know cost ``SANDBOX_PRICE_PER_REQUEST``, and compute-billed endpoints ``SANDBOX_PRICE_PER_COMPUTE_SECOND``,
so every answer is deterministic.

Like fal, both routes take 1 to 50 ids as repeated or comma-separated ``endpoint_id`` parameters and page
with ``cursor``. The stand-in also honours ``limit`` on both routes (default ``DEFAULT_PAGE_SIZE``), so
clients' cursor handling can be tested. Pricing needs a valid key and answers 404 when any requested id is
unknown; models accepts calls without a key and leaves unknown ids out. ``expand`` is accepted and ignored.

Control routes (fal has none):

- ``PUT /_sandbox/platform/endpoints/{endpoint_id}``: override one endpoint's price, unit, status or name;
- ``DELETE /_sandbox/platform/endpoints``: drop every override.

NOTE: ``POST /_sandbox/reset`` does not drop these overrides, because they live in this router rather than
in the stand-in's shared state. Tests that set them must delete them.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from falflow.sandbox.fal.access import check_access
from falflow.sandbox.fal.state import StandinState

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_IDS_PER_CALL = 50
SANDBOX_PRICE_PER_REQUEST = Decimal("0.02")
SANDBOX_PRICE_PER_COMPUTE_SECOND = Decimal("0.001")
# The catalog prices these units per block of seconds; fal prices video by the second.
_SECONDS_PER_BLOCK = {"5-second video": Decimal(5), "5-second video at 540p": Decimal(5)}


class PlatformOverride(BaseModel):
    """Replacement values for one endpoint; fields left unset keep the catalog's values."""

    model_config = ConfigDict(extra="forbid")

    unit_price: Decimal | None = Field(default=None, ge=0, description="US dollars per unit.")
    unit: str | None = Field(default=None, min_length=1, description="fal's unit name, e.g. 'megapixels'.")
    status: Literal["active", "deprecated"] | None = None
    display_name: str | None = Field(default=None, min_length=1)


@dataclass(frozen=True)
class _PlatformEntry:
    endpoint_id: str
    display_name: str
    category: str
    unit_price: Decimal
    unit: str


@cache
def _catalog_entries() -> dict[str, _PlatformEntry]:
    raw = json.loads(resources.files("falflow.graph").joinpath("catalog_data", "fal_catalog.json").read_text("utf-8"))
    entries = {}
    for item in raw["endpoints"]:
        unit_price, unit = _fal_price(item["price"])
        entries[item["endpoint_id"]] = _PlatformEntry(
            endpoint_id=item["endpoint_id"],
            display_name=item["name"],
            category=item["category"],
            unit_price=unit_price,
            unit=unit,
        )
    return entries


def _fal_price(price: dict[str, Any]) -> tuple[Decimal, str]:
    """Restate a catalog price as fal's pricing API would: a unit price and fal's unit name."""
    usd = price.get("usd")
    unit = str(price.get("unit", ""))
    if unit == "compute second":
        return SANDBOX_PRICE_PER_COMPUTE_SECOND, "compute seconds"
    if usd is None:
        return SANDBOX_PRICE_PER_REQUEST, "request"
    amount = Decimal(str(usd))
    if unit in _SECONDS_PER_BLOCK:
        return amount / _SECONDS_PER_BLOCK[unit], "seconds"
    if unit == "megapixel":
        return amount, "megapixels"
    if unit == "image":
        return amount, "image"
    if unit == "1000 characters":
        return amount, "1000 characters"
    if "second" in unit:
        return amount, "video seconds" if unit.startswith("video") else "seconds"
    return amount, "request"


def build_platform_router(state: StandinState) -> APIRouter:
    router = APIRouter()
    overrides: dict[str, PlatformOverride] = {}

    @router.get("/v1/models/pricing", response_model=None)
    async def pricing(request: Request) -> Response:
        rejection = check_access(state, request)
        if rejection is not None:
            return rejection
        ids = _requested_ids(request)
        if isinstance(ids, Response):
            return ids
        if not ids:
            return _error(400, "endpoint_id is required: pass 1 to 50 endpoint ids.")
        unknown = [endpoint_id for endpoint_id in ids if endpoint_id not in _catalog_entries()]
        if unknown:
            return _error(404, f"No pricing found for endpoint(s): {', '.join(unknown)}")
        prices = [_price_body(_catalog_entries()[endpoint_id], overrides.get(endpoint_id)) for endpoint_id in ids]
        return _page(request, "prices", prices)

    @router.get("/v1/models", response_model=None)
    async def models(request: Request) -> Response:
        # fal's model search works without a key, but a key that is sent must be valid.
        if "authorization" in request.headers:
            rejection = check_access(state, request)
            if rejection is not None:
                return rejection
        ids = _requested_ids(request)
        if isinstance(ids, Response):
            return ids
        entries = _catalog_entries()
        if ids:
            selected = [entries[endpoint_id] for endpoint_id in ids if endpoint_id in entries]
        else:
            selected = list(entries.values())
        bodies = [_model_body(entry, overrides.get(entry.endpoint_id)) for entry in selected]
        category = request.query_params.get("category")
        status = request.query_params.get("status")
        bodies = [
            body
            for body in bodies
            if category in (None, body["metadata"]["category"]) and status in (None, body["metadata"]["status"])
        ]
        return _page(request, "models", bodies)

    @router.put("/_sandbox/platform/endpoints/{endpoint_id:path}", response_model=None)
    async def put_override(endpoint_id: str, override: PlatformOverride) -> Response:
        if endpoint_id not in _catalog_entries():
            return _error(404, f"Unknown endpoint id {endpoint_id!r}; use an endpoint of the bundled catalog.")
        overrides[endpoint_id] = override
        return JSONResponse(_describe_overrides(overrides))

    @router.delete("/_sandbox/platform/endpoints")
    async def delete_overrides() -> dict[str, Any]:
        overrides.clear()
        return _describe_overrides(overrides)

    return router


def _requested_ids(request: Request) -> list[str] | Response:
    ids: list[str] = []
    for value in request.query_params.getlist("endpoint_id"):
        ids.extend(part.strip() for part in value.split(",") if part.strip())
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_IDS_PER_CALL:
        return _error(400, f"endpoint_id accepts 1 to {MAX_IDS_PER_CALL} ids per call; got {len(ids)}.")
    return ids


def _page(request: Request, items_key: str, items: list[dict[str, Any]]) -> Response:
    """Return one page of ``items``; the cursor is the base64 of the next offset, like fal's opaque cursors."""
    raw_limit = request.query_params.get("limit")
    try:
        limit = int(raw_limit) if raw_limit is not None else DEFAULT_PAGE_SIZE
    except ValueError:
        return _error(400, f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}; got {raw_limit!r}.")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        return _error(400, f"limit must be from 1 to {MAX_PAGE_SIZE}; got {limit}.")
    offset = _decode_cursor(request.query_params.get("cursor"))
    if offset is None or offset > len(items):
        return _error(400, "cursor is invalid; pass the next_cursor of the previous page unchanged.")
    end = offset + limit
    next_cursor = base64.b64encode(str(end).encode()).decode() if end < len(items) else None
    return JSONResponse({items_key: items[offset:end], "has_more": next_cursor is not None, "next_cursor": next_cursor})


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return 0
    try:
        offset = int(base64.b64decode(cursor, validate=True).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return offset if offset >= 0 else None


def _price_body(entry: _PlatformEntry, override: PlatformOverride | None) -> dict[str, Any]:
    unit_price = override.unit_price if override and override.unit_price is not None else entry.unit_price
    unit = override.unit if override and override.unit is not None else entry.unit
    # A JSON number, as fal sends it; float() of these short decimals prints back the same digits.
    return {"endpoint_id": entry.endpoint_id, "unit_price": float(unit_price), "unit": unit, "currency": "USD"}


def _model_body(entry: _PlatformEntry, override: PlatformOverride | None) -> dict[str, Any]:
    return {
        "endpoint_id": entry.endpoint_id,
        "metadata": {
            "display_name": override.display_name if override and override.display_name else entry.display_name,
            "category": entry.category,
            "description": f"SANDBOX listing of {entry.endpoint_id} from falflow's bundled catalog.",
            "status": override.status if override and override.status else "active",
            "tags": ["sandbox"],
            "model_url": f"https://fal.ai/models/{entry.endpoint_id}",
        },
    }


def _describe_overrides(overrides: dict[str, PlatformOverride]) -> dict[str, Any]:
    return {"overrides": {key: value.model_dump(mode="json", exclude_none=True) for key, value in overrides.items()}}


def _error(status_code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code)
