"""``FalPlatformClient``: model metadata and prices from fal's Platform API, over plain httpx.

fal documents two read calls (docs.fal.ai, Platform APIs v1):

- ``GET {base}/v1/models?endpoint_id=a&endpoint_id=b`` returns
  ``{"models": [{"endpoint_id", "metadata": {"display_name", "category", "status", ...}}], "has_more", "next_cursor"}``;
- ``GET {base}/v1/models/pricing?endpoint_id=...`` returns
  ``{"prices": [{"endpoint_id", "unit_price", "unit", "currency"}], "has_more", "next_cursor"}``.

Each call takes 1 to 50 endpoint ids, authenticates with ``Authorization: Key <key>`` and pages with
``cursor``. Prices include the account's discounts, so they are fal's price for this key.

Users of the third-party fal-mcp-server reported in 2025-12 that fal returns HTTP 404 for a whole pricing
batch when one id in it has no price. The client therefore splits a batch that fails with 404 until it
isolates the unknown ids, and leaves them out of the result.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any

import httpx

from falflow.integrations.fal.errors import (
    FalAuthError,
    FalConfigError,
    FalError,
    FalNotFoundError,
    FalRequestError,
    FalRetryableError,
    decode_body,
    error_from_response,
)
from falflow.integrations.fal.transport import shared_ssl_context

logger = logging.getLogger(__name__)

MODELS_PATH = "/v1/models"
PRICING_PATH = "/v1/models/pricing"
MAX_IDS_PER_CALL = 50
# A cursor chain longer than this is taken as a server fault rather than followed forever.
_MAX_PAGES_PER_BATCH = 200
_MAX_DETAIL_CHARS = 300


@dataclass(frozen=True)
class LivePrice:
    """fal's price of one endpoint: ``unit_price`` in ``currency`` per ``unit``, in fal's unit name."""

    unit_price: Decimal
    unit: str
    currency: str


@dataclass(frozen=True)
class ModelInfo:
    """fal's metadata of one endpoint; ``status`` is ``active`` or ``deprecated`` when fal sends it."""

    display_name: str | None
    category: str | None
    status: str | None
    description: str | None = None
    model_url: str | None = None
    updated_at: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def is_deprecated(self) -> bool:
        return self.status == "deprecated"


class FalPlatformClient:
    """Read model metadata and prices for lists of endpoint ids.

    ``base_url`` is the Platform API's origin without ``/v1`` (``https://api.fal.ai``, or a stand-in's
    ``http://127.0.0.1:PORT``). ``timeout`` bounds each HTTP call, in seconds. ``page_size``, when set,
    is sent as ``limit``. fal documents ``limit`` for ``/v1/models`` only, so leave it unset against
    fal. Every method raises ``FalError`` subclasses only. The connection pool binds to the event loop
    of the first call, so use one client per loop and close it with ``aclose()`` or ``async with``.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: float = 10.0,
        page_size: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not key:
            raise FalConfigError(
                "FalPlatformClient key is missing: fal's pricing API needs the fal API key ('<key_id>:<key_secret>')."
            )
        if timeout <= 0:
            raise FalConfigError(f"FalPlatformClient timeout must be positive seconds, got {timeout!r}.")
        if page_size is not None and page_size < 1:
            raise FalConfigError(f"FalPlatformClient page_size must be 1 or more, or None; got {page_size!r}.")
        self.base_url = _normalize_base_url(base_url)
        self._key = key
        self._timeout = timeout
        self._page_size = page_size
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"FalPlatformClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> FalPlatformClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def fetch_prices(self, endpoint_ids: Iterable[str]) -> dict[str, LivePrice]:
        """Return fal's price of each endpoint id that fal prices; ids without a price are left out.

        Entries that are not valid prices (negative, missing unit) are logged and left out too.
        """
        requested = _unique(endpoint_ids)
        prices: dict[str, LivePrice] = {}
        for batch in _batches(requested):
            for item in await self._price_batch(batch):
                parsed = _parse_price(item)
                if parsed is not None and parsed[0] in requested:
                    prices[parsed[0]] = parsed[1]
        logger.info(
            "fal.platform.prices_fetched",
            extra={"requested": len(requested), "priced": len(prices), "base_url": self.base_url},
        )
        return prices

    async def fetch_models(self, endpoint_ids: Iterable[str]) -> dict[str, ModelInfo]:
        """Return fal's metadata of each endpoint id that fal lists; unknown ids are left out."""
        requested = _unique(endpoint_ids)
        models: dict[str, ModelInfo] = {}
        for batch in _batches(requested):
            for item in await self._pages(MODELS_PATH, batch, items_key="models", operation="models"):
                parsed = _parse_model(item)
                if parsed is not None and parsed[0] in requested:
                    models[parsed[0]] = parsed[1]
        logger.info(
            "fal.platform.models_fetched",
            extra={"requested": len(requested), "listed": len(models), "base_url": self.base_url},
        )
        return models

    async def _price_batch(self, batch: Sequence[str]) -> list[Mapping[str, Any]]:
        """Fetch one batch of prices; after a 404, fetch each half again to isolate the ids without a price."""
        try:
            return await self._pages(PRICING_PATH, batch, items_key="prices", operation="pricing")
        except FalNotFoundError:
            if len(batch) == 1:
                logger.warning("fal.platform.price_not_found", extra={"endpoint_id": batch[0]})
                return []
        middle = len(batch) // 2
        return [*await self._price_batch(batch[:middle]), *await self._price_batch(batch[middle:])]

    async def _pages(
        self, path: str, batch: Sequence[str], *, items_key: str, operation: str
    ) -> list[Mapping[str, Any]]:
        """Fetch every page for one batch of ids, following ``next_cursor``."""
        items: list[Mapping[str, Any]] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES_PER_BATCH):
            params: list[tuple[str, str]] = [("endpoint_id", endpoint_id) for endpoint_id in batch]
            if self._page_size is not None:
                params.append(("limit", str(self._page_size)))
            if cursor is not None:
                params.append(("cursor", cursor))
            body = await self._get_json(path, params, operation)
            page = body.get(items_key)
            if not isinstance(page, list):
                raise FalRequestError(
                    f"fal {operation} returned no '{items_key}' list; "
                    "the Platform API response format may have changed",
                    error_type="invalid_response",
                )
            items.extend(item for item in page if isinstance(item, Mapping))
            next_cursor = body.get("next_cursor")
            if not isinstance(next_cursor, str) or not next_cursor:
                return items
            if next_cursor == cursor:
                raise FalRequestError(
                    f"fal {operation} returned the cursor {next_cursor!r} twice in a row; stopped paging",
                    error_type="invalid_response",
                )
            cursor = next_cursor
        raise FalRequestError(
            f"fal {operation} returned more than {_MAX_PAGES_PER_BATCH} pages for {len(batch)} ids; stopped paging",
            error_type="invalid_response",
        )

    async def _get_json(self, path: str, params: list[tuple[str, str]], operation: str) -> Mapping[str, Any]:
        client = self._client()
        try:
            response = await client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise FalRetryableError(
                f"fal {operation} timed out after {self._timeout:g} s talking to {self.base_url}; retry later",
                error_type="timeout",
            ) from exc
        except httpx.TransportError as exc:
            raise FalRetryableError(
                f"fal {operation} could not reach {self.base_url} ({type(exc).__name__}: {exc}); "
                "check the network and fal_platform_url, then retry",
                error_type="connection_error",
            ) from exc
        if response.status_code >= 400:
            raise _error_for(response, operation)
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise FalRequestError(
                f"fal {operation} returned a body that is not JSON (HTTP {response.status_code})",
                error_type="invalid_response",
            ) from exc
        if not isinstance(body, dict):
            raise FalRequestError(
                f"fal {operation} returned a JSON {type(body).__name__}, expected an object",
                error_type="invalid_response",
            )
        return body

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # Environment proxies must not capture traffic to a stand-in on this machine.
            trust_env = not _is_loopback(httpx.URL(self.base_url).host)
            transport = self._transport or httpx.AsyncHTTPTransport(
                verify=shared_ssl_context(trust_env), trust_env=trust_env
            )
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                transport=transport,
                headers={"Authorization": f"Key {self._key}", "Accept": "application/json"},
                timeout=self._timeout,
                trust_env=trust_env,
            )
        return self._http


def _normalize_base_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FalConfigError(f"fal_platform_url {url!r} is not a valid URL: {exc}.") from exc
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise FalConfigError(f"fal_platform_url {url!r} must be an http(s) URL, e.g. https://api.fal.ai.")
    if parsed.query or parsed.fragment:
        raise FalConfigError(
            f"fal_platform_url {url!r} must not have a query or fragment; use e.g. https://api.fal.ai."
        )
    normalized = str(parsed).rstrip("/")
    if normalized.endswith("/v1"):
        raise FalConfigError(
            f"fal_platform_url {url!r} ends in /v1; give the origin only (https://api.fal.ai), the client adds /v1."
        )
    return normalized


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _unique(endpoint_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(endpoint_ids))


def _batches(endpoint_ids: Sequence[str]) -> list[Sequence[str]]:
    return [endpoint_ids[start : start + MAX_IDS_PER_CALL] for start in range(0, len(endpoint_ids), MAX_IDS_PER_CALL)]


def _error_for(response: httpx.Response, operation: str) -> FalError:
    """Map an error response like the queue adapter does, except for 403s that are no account lock.

    The adapter reads every 403 as a locked account. The Platform API also returns 403 for a key it
    rejects, and fal's Cloudflare front returns 403 with an HTML challenge page when it blocks the caller.
    """
    body = decode_body(response.content)
    if response.status_code != 403 or _mentions_lock(body):
        return error_from_response(response.status_code, body, dict(response.headers), operation=operation)
    prefix = f"fal {operation} failed with HTTP 403"
    if isinstance(body, str) and "<html" in body.lower():
        return FalRequestError(
            f"{prefix}: the response is an HTML page instead of JSON, usually a Cloudflare challenge that "
            "blocks this server's address. Retry later from this host, or ask fal support to allow it.",
            status_code=403,
            error_type="edge_blocked",
        )
    return FalAuthError(
        f"{prefix}: {_detail(body)}. fal rejected this key for the Platform API: check the key at "
        "https://fal.ai/dashboard/keys and configure it as '<key_id>:<key_secret>'.",
        status_code=403,
        error_type="forbidden",
    )


def _mentions_lock(body: Any) -> bool:
    return isinstance(body, dict) and "locked" in str(body.get("detail", "")).lower()


def _detail(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])[:_MAX_DETAIL_CHARS]
    return "no error detail in the response"


def _parse_price(item: Mapping[str, Any]) -> tuple[str, LivePrice] | None:
    endpoint_id = item.get("endpoint_id")
    if not isinstance(endpoint_id, str) or not endpoint_id:
        logger.warning("fal.platform.price_invalid", extra={"reason": "missing endpoint_id"})
        return None
    unit_price = _decimal(item.get("unit_price"))
    unit = _text(item.get("unit"))
    currency = _text(item.get("currency"))
    if unit_price is None or unit_price < 0:
        reason = f"unit_price {item.get('unit_price')!r} is not a number of zero or more"
    elif unit is None:
        reason = f"unit {item.get('unit')!r} is not a unit name"
    elif currency is None:
        reason = f"currency {item.get('currency')!r} is not a currency code"
    else:
        return endpoint_id, LivePrice(unit_price=unit_price, unit=unit, currency=currency.upper())
    logger.warning("fal.platform.price_invalid", extra={"endpoint_id": endpoint_id, "reason": reason})
    return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _parse_model(item: Mapping[str, Any]) -> tuple[str, ModelInfo] | None:
    endpoint_id = item.get("endpoint_id")
    if not isinstance(endpoint_id, str) or not endpoint_id:
        logger.warning("fal.platform.model_invalid", extra={"reason": "missing endpoint_id"})
        return None
    metadata = item.get("metadata")
    if not isinstance(metadata, Mapping):
        metadata = {}
    tags = metadata.get("tags")
    return endpoint_id, ModelInfo(
        display_name=_text(metadata.get("display_name")),
        category=_text(metadata.get("category")),
        status=_text(metadata.get("status")),
        description=_text(metadata.get("description")),
        model_url=_text(metadata.get("model_url")),
        updated_at=_text(metadata.get("updated_at")),
        tags=tuple(tag for tag in tags if isinstance(tag, str)) if isinstance(tags, list) else (),
    )


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None
