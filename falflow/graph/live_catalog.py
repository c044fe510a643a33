"""The live-mode node catalog: bundled specs with fal's current prices and model metadata overlaid.

`LiveCatalogSource` is a `CatalogSource`. `refresh()` fetches prices and metadata of the bundled fal
endpoints through an injected Platform API client and keeps the result as a `LiveSnapshot`. The snapshot
stays in memory for `ttl_seconds` and is also written to a JSON file, so a restart without network
still has the last known prices. `load_specs()` never touches the network: it overlays the current
snapshot, or returns the bundled specs when there is none.

`CatalogHolder` is the process's current catalog. `refresh_and_install` refreshes a source and swaps the
rebuilt catalog into a holder. A failed fetch keeps the previous snapshot, so requests never see an empty
or half-built catalog.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from falflow.graph.catalog import BundledCatalogSource, CatalogSource, NodeCatalog
from falflow.graph.live_pricing import LivePriceRejectedError, apply_live_price
from falflow.graph.specs import NodeSpec
from falflow.integrations.fal.errors import FalError
from falflow.integrations.fal.platform import LivePrice, ModelInfo
from falflow.kit.timeutil import utcnow

logger = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1
DEPRECATED_NOTE = "Deprecated on fal: fal may remove this endpoint, so prefer a newer model."


class PlatformCatalogClient(Protocol):
    """The part of `FalPlatformClient` that the live source uses."""

    base_url: str

    async def fetch_prices(self, endpoint_ids: Iterable[str]) -> dict[str, LivePrice]: ...

    async def fetch_models(self, endpoint_ids: Iterable[str]) -> dict[str, ModelInfo]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class LiveSnapshot:
    """fal's prices and metadata as fetched at `fetched_at` (UTC) from the Platform API at `platform_url`."""

    fetched_at: datetime
    platform_url: str
    prices: Mapping[str, LivePrice] = field(default_factory=dict)
    models: Mapping[str, ModelInfo] = field(default_factory=dict)

    def is_fresh(self, now: datetime, ttl_seconds: float) -> bool:
        """Return True while the snapshot is younger than `ttl_seconds`; one from the future is stale."""
        age = now - self.fetched_at
        return timedelta(0) <= age < timedelta(seconds=ttl_seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "fetched_at": self.fetched_at.isoformat(),
            "platform_url": self.platform_url,
            "prices": {
                endpoint_id: {"unit_price": str(price.unit_price), "unit": price.unit, "currency": price.currency}
                for endpoint_id, price in self.prices.items()
            },
            "models": {
                endpoint_id: {**asdict(info), "tags": list(info.tags)} for endpoint_id, info in self.models.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LiveSnapshot:
        """Parse `to_json()` output; raises ValueError, KeyError or TypeError for anything else."""
        if data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"format {data.get('format')!r} is not {SNAPSHOT_FORMAT}")
        fetched_at = datetime.fromisoformat(data["fetched_at"])
        if fetched_at.tzinfo is None:
            raise ValueError(f"fetched_at {data['fetched_at']!r} has no time zone")
        try:
            prices = {
                endpoint_id: LivePrice(
                    unit_price=Decimal(item["unit_price"]), unit=str(item["unit"]), currency=str(item["currency"])
                )
                for endpoint_id, item in data["prices"].items()
            }
        except InvalidOperation as exc:
            raise ValueError(f"a unit_price is not a decimal number: {exc}") from exc
        models = {
            endpoint_id: ModelInfo(**{**item, "tags": tuple(item.get("tags", ()))})
            for endpoint_id, item in data["models"].items()
        }
        return cls(fetched_at=fetched_at, platform_url=str(data["platform_url"]), prices=prices, models=models)


class SnapshotFile:
    """The snapshot on disk, written atomically so a crash leaves the previous file intact."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> LiveSnapshot | None:
        """Return the stored snapshot, or None when there is none or it cannot be read (logged)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("graph.catalog.snapshot_unreadable", extra={"path": str(self.path), "error": str(exc)})
            return None
        try:
            return LiveSnapshot.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning(
                "graph.catalog.snapshot_invalid",
                extra={"path": str(self.path), "error": f"{type(exc).__name__}: {exc}"},
            )
            return None

    def write(self, snapshot: LiveSnapshot) -> None:
        """Store the snapshot; a failure is logged and leaves the previous file, because the memory copy stays."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    json.dump(snapshot.to_json(), handle, indent=1, sort_keys=True)
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            logger.warning("graph.catalog.snapshot_write_failed", extra={"path": str(self.path), "error": str(exc)})


class RefreshOutcome(enum.Enum):
    """The result of `LiveCatalogSource.refresh`."""

    FETCHED = "fetched"
    STILL_FRESH = "still_fresh"
    FAILED_KEPT_SNAPSHOT = "failed_kept_snapshot"
    FAILED_USING_BUNDLED = "failed_using_bundled"

    @property
    def failed(self) -> bool:
        return self in (RefreshOutcome.FAILED_KEPT_SNAPSHOT, RefreshOutcome.FAILED_USING_BUNDLED)


class LiveCatalogSource:
    """Bundled specs with fal's live prices and metadata overlaid; see the module docstring.

    `snapshot_path` is the JSON file of the disk cache (None keeps the snapshot in memory only), and
    `ttl_seconds` how long a snapshot is used before `refresh()` fetches again. `base` supplies the
    specs to overlay, by default the bundled catalog. `clock` returns the current UTC time.
    """

    def __init__(
        self,
        client: PlatformCatalogClient,
        *,
        snapshot_path: Path | None,
        ttl_seconds: float,
        base: CatalogSource | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if ttl_seconds < 0:
            raise ValueError(f"ttl_seconds must be zero or more seconds; got {ttl_seconds!r}.")
        self._client = client
        self._file = SnapshotFile(snapshot_path) if snapshot_path is not None else None
        self._ttl_seconds = ttl_seconds
        self._base = base or BundledCatalogSource()
        self._clock = clock
        self._snapshot: LiveSnapshot | None = None
        self._disk_checked = False
        self._lock = threading.Lock()
        self._refreshing: asyncio.Lock | None = None

    @property
    def snapshot(self) -> LiveSnapshot | None:
        """Return the snapshot in use: the last fetched one, else the one on disk, else None."""
        with self._lock:
            if self._snapshot is None and not self._disk_checked and self._file is not None:
                self._disk_checked = True
                self._snapshot = self._usable(self._file.read())
            return self._snapshot

    async def aclose(self) -> None:
        await self._client.aclose()

    async def refresh(self, *, force: bool = False) -> RefreshOutcome:
        """Fetch fal's prices and metadata unless the snapshot is younger than the TTL (or `force` is set).

        A failed price fetch (any `FalError`) is logged, not raised, and keeps the current snapshot. A
        failed metadata fetch keeps the previous metadata next to the new prices.
        """
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        async with self._refreshing:
            current = self.snapshot
            if not force and current is not None and current.is_fresh(self._clock(), self._ttl_seconds):
                return RefreshOutcome.STILL_FRESH
            endpoint_ids = [spec.type for spec in self._base.load_specs() if spec.kind == "fal"]
            try:
                prices = await self._client.fetch_prices(endpoint_ids)
            except FalError as exc:
                outcome = RefreshOutcome.FAILED_KEPT_SNAPSHOT if current else RefreshOutcome.FAILED_USING_BUNDLED
                logger.warning(
                    "graph.catalog.live_refresh_failed",
                    extra={"error": str(exc), "retryable": exc.retryable, "outcome": outcome.value},
                )
                return outcome
            try:
                models = await self._client.fetch_models(endpoint_ids)
            except FalError as exc:
                models = dict(current.models) if current else {}
                logger.warning(
                    "graph.catalog.live_models_failed", extra={"error": str(exc), "retryable": exc.retryable}
                )
            snapshot = LiveSnapshot(
                fetched_at=self._clock(), platform_url=self._client.base_url, prices=prices, models=models
            )
            with self._lock:
                self._snapshot = snapshot
            if self._file is not None:
                await asyncio.to_thread(self._file.write, snapshot)
            logger.info(
                "graph.catalog.live_refreshed",
                extra={"endpoints": len(endpoint_ids), "prices": len(prices), "models": len(models)},
            )
            return RefreshOutcome.FETCHED

    def load_specs(self) -> list[NodeSpec]:
        """Return the base specs with the current snapshot overlaid (no network access)."""
        specs = self._base.load_specs()
        snapshot = self.snapshot
        if snapshot is None:
            return specs
        return [overlay_snapshot(spec, snapshot) if spec.kind == "fal" else spec for spec in specs]

    def _usable(self, snapshot: LiveSnapshot | None) -> LiveSnapshot | None:
        if snapshot is not None and snapshot.platform_url != self._client.base_url:
            logger.info(
                "graph.catalog.snapshot_ignored",
                extra={"snapshot_url": snapshot.platform_url, "platform_url": self._client.base_url},
            )
            return None
        return snapshot


def overlay_snapshot(spec: NodeSpec, snapshot: LiveSnapshot) -> NodeSpec:
    """Return `spec` with the snapshot's price and metadata for its endpoint, where the snapshot has them."""
    price = snapshot.prices.get(spec.type)
    if price is not None:
        try:
            spec = apply_live_price(
                spec,
                unit_price=price.unit_price,
                unit=price.unit,
                currency=price.currency,
                fetched_at=snapshot.fetched_at,
                reference=f"{snapshot.platform_url}/v1/models/pricing?endpoint_id={spec.type}",
            )
        except LivePriceRejectedError as exc:
            logger.warning(
                "graph.catalog.live_price_rejected",
                extra={"endpoint_id": spec.type, "reason": exc.reason, "unit": price.unit, "error": str(exc)},
            )
    info = snapshot.models.get(spec.type)
    if info is not None:
        spec = _apply_model_info(spec, info)
    return spec


def _apply_model_info(spec: NodeSpec, info: ModelInfo) -> NodeSpec:
    """Take fal's display name as the title and flag deprecated endpoints in the description.

    NOTE: NodeSpec has no `deprecated` field, so the flag is the `DEPRECATED_NOTE` sentence at the
    start of the description.
    """
    update: dict[str, str] = {}
    if info.display_name:
        update["title"] = info.display_name
    if info.is_deprecated and not spec.description.startswith(DEPRECATED_NOTE):
        update["description"] = f"{DEPRECATED_NOTE} {spec.description}".strip()
    return spec.model_copy(update=update) if update else spec


def is_deprecated(spec: NodeSpec) -> bool:
    """Return True when live metadata flagged the spec's endpoint as deprecated on fal."""
    return spec.description.startswith(DEPRECATED_NOTE)


class CatalogHolder:
    """The process's current node catalog, built on first use and replaced whole by live refreshes.

    Readers get one consistent `NodeCatalog` per call; a replacement is a single reference swap.
    """

    def __init__(self, load_initial: Callable[[], NodeCatalog]) -> None:
        self._load_initial = load_initial
        self._catalog: NodeCatalog | None = None
        self._lock = threading.Lock()

    def current(self) -> NodeCatalog:
        catalog = self._catalog
        if catalog is not None:
            return catalog
        with self._lock:
            if self._catalog is None:
                self._catalog = self._load_initial()
            return self._catalog

    def replace(self, catalog: NodeCatalog) -> None:
        with self._lock:
            self._catalog = catalog

    def reset(self) -> None:
        """Forget the current catalog, so the next `current()` loads the initial one again."""
        with self._lock:
            self._catalog = None


def install_catalog(source: CatalogSource, holder: CatalogHolder) -> NodeCatalog:
    """Build a catalog from `source` and make it the holder's current catalog."""
    catalog = NodeCatalog.from_source(source)
    holder.replace(catalog)
    return catalog


async def refresh_and_install(
    source: LiveCatalogSource, holder: CatalogHolder, *, force: bool = False
) -> RefreshOutcome:
    """Refresh the live source and install the rebuilt catalog; the source logs a failed fetch itself."""
    outcome = await source.refresh(force=force)
    catalog = install_catalog(source, holder)
    snapshot = source.snapshot
    logger.info(
        "graph.catalog.installed",
        extra={
            "node_types": len(catalog),
            "source": "live" if snapshot is not None else "bundled",
            "outcome": outcome.value,
            "fetched_at": snapshot.fetched_at.isoformat() if snapshot is not None else None,
        },
    )
    return outcome
