"""FalPlatformClient against the stand-in's Platform API routes and a fixed-response server, over real HTTP."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from falflow.graph.catalog import load_bundled_catalog
from falflow.integrations.fal import (
    FalAccountLockedError,
    FalAuthError,
    FalConfigError,
    FalRequestError,
    FalRetryableError,
)
from falflow.integrations.fal.platform import FalPlatformClient, LivePrice
from falflow.sandbox.fal import RunningStandin

KEY = "test-key:secret"
FLUX_DEV = "fal-ai/flux/dev"
KLING = "fal-ai/kling-video/v2.1/standard/image-to-video"
FAL_IDS = [spec.type for spec in load_bundled_catalog().all() if spec.kind == "fal"]


class CountingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that records the path and query of every request it sends."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(trust_env=False)
        self.requests: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def clear_overrides(control: httpx.Client) -> Iterator[httpx.Client]:
    yield control
    control.delete("/_sandbox/platform/endpoints").raise_for_status()


@pytest.mark.asyncio
async def test_prices_follow_cursor_pages(standin: RunningStandin) -> None:
    transport = CountingTransport()
    async with FalPlatformClient(standin.url, KEY, page_size=7, transport=transport) as client:
        prices = await client.fetch_prices(FAL_IDS)

    assert len(FAL_IDS) == 33
    assert sorted(prices) == sorted(FAL_IDS)
    assert prices[FLUX_DEV] == LivePrice(unit_price=Decimal("0.025"), unit="megapixels", currency="USD")
    assert prices[KLING] == LivePrice(unit_price=Decimal("0.056"), unit="seconds", currency="USD")
    assert len(transport.requests) == 5  # ceil(33 / 7) pages
    assert [url.params.get("cursor") for url in transport.requests][0] is None
    assert all(url.params.get("cursor") for url in transport.requests[1:])
    assert all(url.params.get_list("endpoint_id") == FAL_IDS for url in transport.requests)


@pytest.mark.asyncio
async def test_prices_without_limit_still_page(standin: RunningStandin) -> None:
    transport = CountingTransport()
    async with FalPlatformClient(standin.url, KEY, transport=transport) as client:
        prices = await client.fetch_prices(FAL_IDS)

    assert len(prices) == len(FAL_IDS)
    assert len(transport.requests) == 2  # the stand-in's default page size is 20
    assert all(url.params.get("limit") is None for url in transport.requests)


@pytest.mark.asyncio
async def test_unknown_ids_left_out_across_batches(standin: RunningStandin) -> None:
    unknown = [f"fal-ai/not-a-model-{index}" for index in range(20)]
    transport = CountingTransport()
    async with FalPlatformClient(standin.url, KEY, page_size=100, transport=transport) as client:
        prices = await client.fetch_prices([*FAL_IDS, *unknown, FLUX_DEV])

    assert sorted(prices) == sorted(FAL_IDS)
    assert max(len(url.params.get_list("endpoint_id")) for url in transport.requests) == 50
    first_batch = transport.requests[0].params.get_list("endpoint_id")
    assert first_batch == [*FAL_IDS, *unknown][:50]


@pytest.mark.asyncio
async def test_standin_rejects_more_than_fifty_ids(standin: RunningStandin) -> None:
    ids = [f"fal-ai/model-{index}" for index in range(51)]
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        response = await http.get("/v1/models/pricing", params={"endpoint_id": ids})

    assert response.status_code == 400
    assert "1 to 50" in response.json()["detail"]


@pytest.mark.asyncio
async def test_models_return_metadata_and_overrides(
    standin: RunningStandin, clear_overrides: httpx.Client
) -> None:
    clear_overrides.put(
        f"/_sandbox/platform/endpoints/{KLING}", json={"status": "deprecated", "display_name": "Kling 2.1 (old)"}
    ).raise_for_status()
    async with FalPlatformClient(standin.url, KEY, page_size=4) as client:
        models = await client.fetch_models([FLUX_DEV, KLING, "fal-ai/unknown-model"])

    assert sorted(models) == sorted([FLUX_DEV, KLING])
    assert models[FLUX_DEV].display_name == "FLUX.1 [dev]"
    assert models[FLUX_DEV].category == "text-to-image"
    assert models[FLUX_DEV].is_deprecated is False
    assert models[KLING].display_name == "Kling 2.1 (old)"
    assert models[KLING].is_deprecated is True
    assert models[KLING].tags == ("sandbox",)


@pytest.mark.asyncio
async def test_price_override_changes_answer(standin: RunningStandin, clear_overrides: httpx.Client) -> None:
    clear_overrides.put(
        f"/_sandbox/platform/endpoints/{FLUX_DEV}", json={"unit_price": "0.05", "unit": "image"}
    ).raise_for_status()
    async with FalPlatformClient(standin.url, KEY) as client:
        prices = await client.fetch_prices([FLUX_DEV])

    assert prices == {FLUX_DEV: LivePrice(unit_price=Decimal("0.05"), unit="image", currency="USD")}


@pytest.mark.asyncio
async def test_bad_key_raises_auth_error(standin: RunningStandin, control: httpx.Client) -> None:
    control.patch("/_sandbox/config", json={"accepted_keys": [KEY]}).raise_for_status()
    async with FalPlatformClient(standin.url, "wrong-key:secret") as client:
        with pytest.raises(FalAuthError) as caught:
            await client.fetch_prices([FLUX_DEV])
        with pytest.raises(FalAuthError):
            await client.fetch_models([FLUX_DEV])

    assert caught.value.status_code == 401
    assert caught.value.retryable is False
    assert "https://fal.ai/dashboard/keys" in str(caught.value)
    assert "wrong-key" not in str(caught.value)


@pytest.mark.asyncio
async def test_models_need_no_key_but_pricing_does(standin: RunningStandin, control: httpx.Client) -> None:
    control.patch("/_sandbox/config", json={"accepted_keys": [KEY]}).raise_for_status()
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as http:
        models = await http.get("/v1/models", params={"endpoint_id": FLUX_DEV})
        prices = await http.get("/v1/models/pricing", params={"endpoint_id": FLUX_DEV})

    assert models.status_code == 200
    assert prices.status_code == 401


@pytest.mark.asyncio
async def test_locked_account_raises_locked_error(standin: RunningStandin, control: httpx.Client) -> None:
    control.patch("/_sandbox/config", json={"account_locked": True}).raise_for_status()
    async with FalPlatformClient(standin.url, KEY) as client:
        with pytest.raises(FalAccountLockedError) as caught:
            await client.fetch_prices([FLUX_DEV])

    assert caught.value.status_code == 403
    assert "dashboard/billing" in str(caught.value)


@pytest.mark.asyncio
async def test_closed_port_raises_retryable_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with FalPlatformClient(f"http://127.0.0.1:{closed_port}", KEY, timeout=2.0) as client:
        with pytest.raises(FalRetryableError) as caught:
            await client.fetch_prices([FLUX_DEV])

    assert caught.value.error_type == "connection_error"
    assert f"127.0.0.1:{closed_port}" in str(caught.value)


# Fixed responses of the server below, keyed by the first path segment (the client's base URL path).
_FIXED_RESPONSES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "html403": (403, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><title>Just a moment...</title></html>"),
    "json403": (403, {"Content-Type": "application/json"}, b'{"detail": "Key scope not allowed"}'),
    "ratelimited": (429, {"Content-Type": "application/json", "Retry-After": "7"}, b'{"detail": "Too many requests"}'),
    "unavailable": (503, {"Content-Type": "application/json"}, b'{"detail": "Service unavailable"}'),
    "notjson": (200, {"Content-Type": "text/plain"}, b"hello"),
    "nolist": (200, {"Content-Type": "application/json"}, b'{"items": []}'),
    "samecursor": (
        200,
        {"Content-Type": "application/json"},
        json.dumps({"prices": [], "has_more": True, "next_cursor": "AAA"}).encode(),
    ),
    "oddprices": (
        200,
        {"Content-Type": "application/json"},
        json.dumps(
            {
                "prices": [
                    {"endpoint_id": FLUX_DEV, "unit_price": -1, "unit": "image", "currency": "USD"},
                    {"endpoint_id": KLING, "unit_price": 0.1, "unit": "", "currency": "USD"},
                    {
                        "endpoint_id": "fal-ai/flux/schnell",
                        "unit_price": 0.003,
                        "unit": "megapixels",
                        "currency": "usd",
                    },
                    {"endpoint_id": "fal-ai/not-requested", "unit_price": 1, "unit": "image", "currency": "USD"},
                ],
                "has_more": False,
                "next_cursor": None,
            }
        ).encode(),
    ),
}


class _FixedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        segment = self.path.lstrip("/").split("/", 1)[0]
        status, headers, body = _FIXED_RESPONSES.get(segment, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@contextmanager
def fixed_server() -> Iterator[str]:
    """Serve `_FIXED_RESPONSES` on 127.0.0.1 and yield the origin (a real server, not a mock)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FixedHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def fixed_origin() -> Iterator[str]:
    with fixed_server() as origin:
        yield origin


@pytest.mark.asyncio
async def test_cloudflare_page_is_no_lock(fixed_origin: str) -> None:
    async with FalPlatformClient(f"{fixed_origin}/html403", KEY) as client:
        with pytest.raises(FalRequestError) as caught:
            await client.fetch_prices([FLUX_DEV])

    assert caught.value.error_type == "edge_blocked"
    assert "Cloudflare" in str(caught.value)


@pytest.mark.asyncio
async def test_forbidden_key_raises_auth_error(fixed_origin: str) -> None:
    async with FalPlatformClient(f"{fixed_origin}/json403", KEY) as client:
        with pytest.raises(FalAuthError) as caught:
            await client.fetch_models([FLUX_DEV])

    assert caught.value.status_code == 403
    assert "Key scope not allowed" in str(caught.value)
    assert "dashboard/keys" in str(caught.value)


@pytest.mark.asyncio
async def test_rate_limit_and_server_error_are_retryable(fixed_origin: str) -> None:
    async with FalPlatformClient(f"{fixed_origin}/ratelimited", KEY) as client:
        with pytest.raises(FalRetryableError) as limited:
            await client.fetch_prices([FLUX_DEV])
    async with FalPlatformClient(f"{fixed_origin}/unavailable", KEY) as client:
        with pytest.raises(FalRetryableError) as unavailable:
            await client.fetch_prices([FLUX_DEV])

    assert limited.value.status_code == 429
    assert limited.value.retry_after == 7.0
    assert unavailable.value.status_code == 503


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("prefix", "message"),
    [("notjson", "not JSON"), ("nolist", "no 'prices' list"), ("samecursor", "cursor 'AAA' twice")],
)
async def test_malformed_answers_raise_request_error(fixed_origin: str, prefix: str, message: str) -> None:
    async with FalPlatformClient(f"{fixed_origin}/{prefix}", KEY) as client:
        with pytest.raises(FalRequestError) as caught:
            await client.fetch_prices([FLUX_DEV])

    assert caught.value.error_type == "invalid_response"
    assert message in str(caught.value)


@pytest.mark.asyncio
async def test_invalid_price_entries_skipped(fixed_origin: str) -> None:
    async with FalPlatformClient(f"{fixed_origin}/oddprices", KEY) as client:
        prices = await client.fetch_prices([FLUX_DEV, KLING, "fal-ai/flux/schnell"])

    assert prices == {
        "fal-ai/flux/schnell": LivePrice(unit_price=Decimal("0.003"), unit="megapixels", currency="USD")
    }


@pytest.mark.parametrize(
    ("base_url", "key", "message"),
    [
        ("https://api.fal.ai", "", "key is missing"),
        ("https://api.fal.ai/v1", KEY, "ends in /v1"),
        ("ftp://api.fal.ai", KEY, "must be an http(s) URL"),
        ("https://api.fal.ai?x=1", KEY, "query or fragment"),
    ],
)
def test_invalid_configuration_rejected(base_url: str, key: str, message: str) -> None:
    with pytest.raises(FalConfigError) as caught:
        FalPlatformClient(base_url, key)

    assert message in str(caught.value)


def test_key_absent_from_repr() -> None:
    client = FalPlatformClient("https://api.fal.ai", KEY)

    assert KEY not in repr(client)
    assert client.base_url == "https://api.fal.ai"
