"""The live catalog: fal's prices and metadata from the stand-in's Platform API overlaid on the bundled specs.

Every test talks to a real stand-in on 127.0.0.1 (or to a closed loopback port) through FalPlatformClient.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from falflow.context import AppContext, reset_context
from falflow.graph.catalog import NodeCatalog, load_bundled_catalog
from falflow.graph.cost import estimate_workflow
from falflow.graph.live_catalog import (
    CatalogHolder,
    LiveCatalogSource,
    RefreshOutcome,
    is_deprecated,
    refresh_and_install,
)
from falflow.graph.live_pricing import (
    LIVE_PRICE_SOURCE_KIND,
    LivePriceRejectedError,
    LiveUnit,
    apply_live_price,
    classify_unit,
)
from falflow.graph.pricing import PerImagePrice, PerRequestPrice, PerSecondPrice
from falflow.graph.specs import NodeSpec
from falflow.integrations.fal.platform import FalPlatformClient
from falflow.runtime import running_services
from falflow.sandbox.fal import RunningStandin, start_fal_standin
from falflow.workflows.endpoints import catalog_holder, get_catalog

from .builders import document, node

KEY = "test-key:secret"
FLUX_DEV = "fal-ai/flux/dev"
KLING = "fal-ai/kling-video/v2.1/standard/image-to-video"
VEO = "fal-ai/veo3.1"
BIREFNET = "fal-ai/birefnet/v2"
WIZPER = "fal-ai/wizper"
FETCHED_AT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def standin() -> Iterator[RunningStandin]:
    with start_fal_standin() as running:
        yield running


@pytest.fixture
def control(standin: RunningStandin) -> Iterator[httpx.Client]:
    """The stand-in's control routes; every price override is dropped after the test."""
    with httpx.Client(base_url=standin.url, trust_env=False, timeout=10.0) as client:
        yield client
        client.delete("/_sandbox/platform/endpoints").raise_for_status()


@pytest.fixture
def closed_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


class CountingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that counts the requests it sends."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(trust_env=False)
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def set_platform(control: httpx.Client, endpoint_id: str, **values: Any) -> None:
    control.put(f"/_sandbox/platform/endpoints/{endpoint_id}", json=values).raise_for_status()


def credits(catalog: NodeCatalog, node_type: str, **params: Any) -> int:
    subject = node("n", node_type, **params)
    return estimate_workflow(document([subject]), catalog).nodes["n"].credits


def spec_of(catalog: NodeCatalog, type_id: str) -> NodeSpec:
    spec = catalog.get(type_id)
    assert spec is not None
    return spec


async def live_catalog(url: str, *, snapshot_path: Path | None = None, ttl_seconds: float = 3600) -> NodeCatalog:
    async with FalPlatformClient(url, KEY, timeout=2.0) as client:
        source = LiveCatalogSource(client, snapshot_path=snapshot_path, ttl_seconds=ttl_seconds)
        await source.refresh()
        return NodeCatalog.from_source(source)


@pytest.mark.asyncio
async def test_live_prices_overlay_bundled(standin: RunningStandin) -> None:
    catalog = await live_catalog(standin.url)
    flux = spec_of(catalog, FLUX_DEV)

    assert flux.price_source is not None
    assert flux.price_source.kind == LIVE_PRICE_SOURCE_KIND
    assert flux.price_source.date is not None
    assert flux.price_source.reference == f"{standin.url}/v1/models/pricing?endpoint_id={FLUX_DEV}"
    assert flux.price == spec_of(load_bundled_catalog(), FLUX_DEV).price
    assert len(catalog) == len(load_bundled_catalog())


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("type_id", "params"),
    [
        (FLUX_DEV, {"prompt": "x", "image_size": "square_hd", "num_images": 2}),
        (KLING, {"prompt": "x", "image_url": "https://example.com/a.png", "duration": "10"}),
        (VEO, {"prompt": "x", "generate_audio": False, "duration": "4s"}),
        ("fal-ai/kokoro/american-english", {"prompt": "x" * 1500}),
        ("fal-ai/bria/background/remove", {"image_url": "https://example.com/a.png"}),
    ],
)
async def test_unchanged_prices_keep_estimates(standin: RunningStandin, type_id: str, params: dict[str, Any]) -> None:
    catalog = await live_catalog(standin.url)

    assert credits(catalog, type_id, **params) == credits(load_bundled_catalog(), type_id, **params)


@pytest.mark.asyncio
async def test_changed_price_changes_estimate(standin: RunningStandin, control: httpx.Client) -> None:
    set_platform(control, FLUX_DEV, unit_price="0.05")
    catalog = await live_catalog(standin.url)

    assert credits(load_bundled_catalog(), FLUX_DEV, prompt="x", image_size="square_hd") == 25
    assert credits(catalog, FLUX_DEV, prompt="x", image_size="square_hd") == 50
    # 1500 x 1500 is 2.25 MP, billed as 3 MP per image: 2 x 3 x US$0.05.
    assert credits(catalog, FLUX_DEV, prompt="x", image_size={"width": 1500, "height": 1500}, num_images=2) == 300


@pytest.mark.asyncio
async def test_new_unit_builds_new_rule(standin: RunningStandin, control: httpx.Client) -> None:
    set_platform(control, FLUX_DEV, unit_price="0.04", unit="images")
    catalog = await live_catalog(standin.url)
    rule = spec_of(catalog, FLUX_DEV).price

    assert isinstance(rule, PerImagePrice)
    assert rule.count_param == "num_images"
    assert credits(catalog, FLUX_DEV, prompt="x", num_images=3) == 120


@pytest.mark.asyncio
async def test_block_price_scales_extra_seconds(standin: RunningStandin, control: httpx.Client) -> None:
    set_platform(control, KLING, unit_price="0.07", unit="video_seconds")
    catalog = await live_catalog(standin.url)
    rule = spec_of(catalog, KLING).price
    params = {"prompt": "x", "image_url": "https://example.com/a.png"}

    assert isinstance(rule, PerSecondPrice)
    assert (rule.usd, rule.included_seconds, rule.extra_usd_per_second) == (Decimal("0.35"), 5, Decimal("0.07"))
    assert credits(catalog, KLING, **params, duration="5") == 350
    assert credits(catalog, KLING, **params, duration="10") == 700


@pytest.mark.asyncio
async def test_variant_prices_scale_with_base(standin: RunningStandin, control: httpx.Client) -> None:
    set_platform(control, VEO, unit_price="0.5")
    catalog = await live_catalog(standin.url)

    # Audio off was US$0.20 a second next to US$0.40; at US$0.50 it becomes US$0.25 (4 s = US$1.00).
    assert credits(catalog, VEO, prompt="x", generate_audio=False, duration="4s") == 1000
    assert credits(catalog, VEO, prompt="x", duration="4s") == 2000


@pytest.mark.asyncio
async def test_unpriced_endpoint_gets_live_price(standin: RunningStandin) -> None:
    catalog = await live_catalog(standin.url)
    params = {"image_url": "https://example.com/a.png"}

    assert isinstance(spec_of(catalog, BIREFNET).price, PerRequestPrice)
    assert credits(load_bundled_catalog(), BIREFNET, **params) == 100  # the US$0.10 fallback
    assert credits(catalog, BIREFNET, **params) == 20  # the stand-in's US$0.02 per request


@pytest.mark.asyncio
async def test_compute_price_keeps_fallback(standin: RunningStandin) -> None:
    catalog = await live_catalog(standin.url)
    wizper = spec_of(catalog, WIZPER)

    assert wizper.price == spec_of(load_bundled_catalog(), WIZPER).price
    assert wizper.price_source is not None
    assert wizper.price_source.kind != LIVE_PRICE_SOURCE_KIND
    assert "US$0.001 per compute second" in (wizper.price_source.note or "")


@pytest.mark.asyncio
async def test_unknown_unit_keeps_bundled_rule(
    standin: RunningStandin, control: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="falflow.graph.live_catalog")
    set_platform(control, FLUX_DEV, unit_price="3", unit="1M tokens")
    catalog = await live_catalog(standin.url)
    flux = spec_of(catalog, FLUX_DEV)
    bundled = spec_of(load_bundled_catalog(), FLUX_DEV)

    assert flux.price == bundled.price
    assert flux.price_source == bundled.price_source
    rejected = [record for record in caplog.records if record.getMessage() == "graph.catalog.live_price_rejected"]
    assert [(record.__dict__["endpoint_id"], record.__dict__["reason"]) for record in rejected] == [
        (FLUX_DEV, "unknown_unit")
    ]


@pytest.mark.asyncio
async def test_metadata_sets_title_and_deprecation(standin: RunningStandin, control: httpx.Client) -> None:
    set_platform(control, KLING, status="deprecated", display_name="Kling 2.1 Standard")
    catalog = await live_catalog(standin.url)
    kling = spec_of(catalog, KLING)

    assert kling.title == "Kling 2.1 Standard"
    assert is_deprecated(kling) is True
    assert is_deprecated(spec_of(catalog, FLUX_DEV)) is False
    assert kling.to_public()["description"].startswith("Deprecated on fal")


@pytest.mark.asyncio
async def test_unreachable_platform_keeps_bundled(closed_url: str) -> None:
    async with FalPlatformClient(closed_url, KEY, timeout=2.0) as client:
        source = LiveCatalogSource(client, snapshot_path=None, ttl_seconds=3600)
        outcome = await source.refresh()
        specs = source.load_specs()

    assert outcome is RefreshOutcome.FAILED_USING_BUNDLED
    assert outcome.failed is True
    assert source.snapshot is None
    assert NodeCatalog(specs).to_public() == load_bundled_catalog().to_public()


@pytest.mark.asyncio
async def test_disk_snapshot_survives_restart(tmp_path: Path) -> None:
    snapshot_path = tmp_path / "cache" / "platform.json"
    with start_fal_standin() as short_lived:
        url = short_lived.url
        with httpx.Client(base_url=url, trust_env=False) as short_control:
            set_platform(short_control, FLUX_DEV, unit_price="0.05")
        async with FalPlatformClient(url, KEY) as client:
            first = LiveCatalogSource(client, snapshot_path=snapshot_path, ttl_seconds=3600)
            assert await first.refresh() is RefreshOutcome.FETCHED
    stored = json.loads(snapshot_path.read_text("utf-8"))

    # The "restarted" process finds the stand-in's port closed; a TTL of 0 makes it try to fetch.
    async with FalPlatformClient(url, KEY, timeout=2.0) as client:
        restarted = LiveCatalogSource(client, snapshot_path=snapshot_path, ttl_seconds=0)
        outcome = await restarted.refresh()
        catalog = NodeCatalog.from_source(restarted)

    assert stored["prices"][FLUX_DEV] == {"unit_price": "0.05", "unit": "megapixels", "currency": "USD"}
    assert outcome is RefreshOutcome.FAILED_KEPT_SNAPSHOT
    assert credits(catalog, FLUX_DEV, prompt="x", image_size="square_hd") == 50
    assert spec_of(catalog, FLUX_DEV).price_source == spec_of(NodeCatalog.from_source(first), FLUX_DEV).price_source


@pytest.mark.asyncio
async def test_snapshot_from_other_url_ignored(standin: RunningStandin, closed_url: str, tmp_path: Path) -> None:
    snapshot_path = tmp_path / "platform.json"
    async with FalPlatformClient(standin.url, KEY) as client:
        await LiveCatalogSource(client, snapshot_path=snapshot_path, ttl_seconds=3600).refresh()
    async with FalPlatformClient(closed_url, KEY, timeout=2.0) as client:
        other = LiveCatalogSource(client, snapshot_path=snapshot_path, ttl_seconds=3600)

        assert other.snapshot is None


@pytest.mark.asyncio
async def test_corrupt_snapshot_falls_back(
    closed_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="falflow.graph.live_catalog")
    snapshot_path = tmp_path / "platform.json"
    snapshot_path.write_text('{"format": 1, "fetched_at": "yesterday"}', encoding="utf-8")
    async with FalPlatformClient(closed_url, KEY, timeout=2.0) as client:
        source = LiveCatalogSource(client, snapshot_path=snapshot_path, ttl_seconds=3600)

        assert await source.refresh() is RefreshOutcome.FAILED_USING_BUNDLED
    assert "graph.catalog.snapshot_invalid" in [record.getMessage() for record in caplog.records]


@pytest.mark.asyncio
async def test_fresh_snapshot_skips_fetch(standin: RunningStandin, tmp_path: Path) -> None:
    now = [FETCHED_AT]
    transport = CountingTransport()
    async with FalPlatformClient(standin.url, KEY, transport=transport) as client:
        source = LiveCatalogSource(
            client, snapshot_path=tmp_path / "platform.json", ttl_seconds=3600, clock=lambda: now[0]
        )
        first = await source.refresh()
        requests_after_first = transport.count
        now[0] = FETCHED_AT + timedelta(minutes=59)
        second = await source.refresh()
        now[0] = FETCHED_AT + timedelta(minutes=61)
        third = await source.refresh()

    assert (first, second, third) == (RefreshOutcome.FETCHED, RefreshOutcome.STILL_FRESH, RefreshOutcome.FETCHED)
    assert requests_after_first == 4  # two pages each of prices and of models
    assert transport.count == 2 * requests_after_first
    assert source.snapshot is not None
    assert source.snapshot.fetched_at == FETCHED_AT + timedelta(minutes=61)


@pytest.mark.asyncio
async def test_refresh_installs_into_holder(standin: RunningStandin, control: httpx.Client) -> None:
    holder = CatalogHolder(load_bundled_catalog)
    set_platform(control, FLUX_DEV, unit_price="0.05")
    async with FalPlatformClient(standin.url, KEY) as client:
        source = LiveCatalogSource(client, snapshot_path=None, ttl_seconds=3600)
        before = holder.current()
        outcome = await refresh_and_install(source, holder)

    assert before is load_bundled_catalog()
    assert outcome is RefreshOutcome.FETCHED
    assert credits(holder.current(), FLUX_DEV, prompt="x", image_size="square_hd") == 50
    holder.reset()
    assert holder.current() is load_bundled_catalog()


@pytest.mark.parametrize(
    ("name", "unit", "per_unit"),
    [
        ("megapixels", LiveUnit.MEGAPIXEL, Decimal("0.6")),
        ("Video_Seconds", LiveUnit.SECOND, Decimal("0.6")),
        ("per image", LiveUnit.IMAGE, Decimal("0.6")),
        ("1000 characters", LiveUnit.THOUSAND_CHARACTERS, Decimal("0.6")),
        ("character", LiveUnit.THOUSAND_CHARACTERS, Decimal(600)),
        ("minutes", LiveUnit.SECOND, Decimal("0.01")),
        ("generation", LiveUnit.REQUEST, Decimal("0.6")),
        ("video", LiveUnit.VIDEO, Decimal("0.6")),
        ("compute seconds", LiveUnit.COMPUTE_SECOND, Decimal("0.6")),
    ],
)
def test_classify_unit_names(name: str, unit: LiveUnit, per_unit: Decimal) -> None:
    reading = classify_unit(name)

    assert reading is not None
    assert reading.unit is unit
    assert reading.price_per_unit(Decimal("0.60")) == per_unit


@pytest.mark.parametrize("name", ["", "tokens", "1M tokens", "gigabyte"])
def test_classify_unit_unknown(name: str) -> None:
    assert classify_unit(name) is None


@pytest.mark.parametrize(
    ("unit_price", "unit", "currency", "reason"),
    [
        (Decimal("0.03"), "megapixels", "EUR", "currency"),
        (Decimal(0), "megapixels", "USD", "zero_price"),
        (Decimal("0.03"), "1M tokens", "USD", "unknown_unit"),
    ],
)
def test_unusable_live_price_rejected(unit_price: Decimal, unit: str, currency: str, reason: str) -> None:
    spec = spec_of(load_bundled_catalog(), FLUX_DEV)

    with pytest.raises(LivePriceRejectedError) as caught:
        apply_live_price(
            spec, unit_price=unit_price, unit=unit, currency=currency, fetched_at=FETCHED_AT, reference="ref"
        )

    assert caught.value.reason == reason
    assert FLUX_DEV in str(caught.value)


def test_minute_price_becomes_per_second() -> None:
    spec = spec_of(load_bundled_catalog(), "fal-ai/minimax/hailuo-02/standard/image-to-video")

    live = apply_live_price(
        spec, unit_price=Decimal("3.6"), unit="video minutes", currency="USD", fetched_at=FETCHED_AT, reference="ref"
    )

    assert isinstance(live.price, PerSecondPrice)
    assert live.price.usd == Decimal("0.06")
    assert live.price_source is not None
    assert live.price_source.date == "2026-10-01T12:00:00+00:00"


@pytest.fixture
def live_env(app_env: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """The app environment in live mode; the process-wide catalog is reset afterwards."""
    monkeypatch.setenv("FAL_KEY", KEY)
    reset_context()
    yield app_env
    catalog_holder.reset()


@pytest.mark.asyncio
async def test_live_startup_installs_live_catalog(
    live_env: AppContext,
    standin: RunningStandin,
    control: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
) -> None:
    monkeypatch.setenv("FALFLOW_FAL_PLATFORM_URL", standin.url)
    reset_context()
    set_platform(control, FLUX_DEV, unit_price="0.05")

    async with running_services(start_engine=False, role="worker") as runtime:
        catalog = get_catalog()
        engine_catalog = runtime.engine.services.catalog

    assert engine_catalog is catalog
    assert credits(catalog, FLUX_DEV, prompt="x", image_size="square_hd") == 50
    assert (data_dir / "cache" / "fal_platform_catalog.json").is_file()


@pytest.mark.asyncio
async def test_live_startup_survives_unreachable_api(
    live_env: AppContext, closed_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FALFLOW_FAL_PLATFORM_URL", closed_url)
    reset_context()

    async with running_services(start_engine=False, role="worker"):
        catalog = get_catalog()

    assert catalog.to_public() == load_bundled_catalog().to_public()
