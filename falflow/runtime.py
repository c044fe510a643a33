"""Start-up and shut-down of everything the app process runs besides HTTP.

In order: logging, configuration checks (the JWT key), database migrations, the sandbox
stand-ins when no provider keys are set, in live mode the node catalog with fal's current
prices, and the run engine. The same sequence serves the Reflex backend (as a lifespan task),
`python -m falflow.worker` and the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any
from dataclasses import dataclass, field
from datetime import timedelta

import anyio.to_thread

from falflow.assets.config import storage_for_settings
from falflow.assets.service import purge_deleted_assets
from falflow.assets.storage import AssetStorage
from falflow.assets.thumbnail_queue import ThumbnailQueue
from falflow.context import AppContext, get_context
from falflow.graph.live_catalog import LiveCatalogSource, RefreshOutcome, install_catalog, refresh_and_install
from falflow.integrations.fal import FalGateway, FalGatewayConfig
from falflow.integrations.fal.platform import FalPlatformClient
from falflow.kit.logging import configure_logging
from falflow.kit.migrations import upgrade_database
from falflow.kit.timeutil import utcnow
from falflow.runs.engine import RunEngine, set_engine
from falflow.runs.services import RunServices
from falflow.sandbox.fal import FalStandinConfig, Timing, start_fal_standin
from falflow.settings import Mode, Settings
from falflow.workflows.endpoints import catalog_holder, get_catalog

logger = logging.getLogger("falflow.runtime")


@dataclass
class Runtime:
    context: AppContext
    engine: RunEngine
    fal_url: str | None
    stoppers: list[object] = field(default_factory=list)


def _fal_gateway_factory(context: AppContext, sandbox_url: str | None):  # type: ignore[no-untyped-def]
    settings = context.settings
    key = settings.fal_key.get_secret_value() if settings.fal_key else None
    config = FalGatewayConfig(
        key=key, sandbox_url=sandbox_url, poll_interval=settings.fal_poll_interval_seconds,
        poll_max_interval=settings.fal_poll_max_interval_seconds, status_stream=settings.fal_status_stream,
    )
    return lambda: FalGateway(config)


PURGE_INTERVAL_SECONDS = 3600


async def _purge_periodically(context: AppContext, storage: AssetStorage) -> None:
    """Remove the files of assets deleted longer ago than the configured grace period, hourly."""
    while True:
        cutoff = utcnow() - timedelta(seconds=context.settings.asset_purge_after_seconds)

        def purge() -> None:
            with context.database.write_session() as session:
                report = purge_deleted_assets(session, storage, cutoff)
            logger.info("assets.purged", extra={"report": str(report)})

        try:
            await asyncio.to_thread(purge)
        except Exception:  # noqa: BLE001 - a failed purge must not stop the app; it retries next hour
            logger.exception("assets.purge_failed")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


STRIPE_REPROCESS_INTERVAL_SECONDS = 300


async def _reprocess_stripe_events_periodically(context: AppContext, billing: Any) -> None:
    """Retry stored Stripe events that failed or waited for their purchase, every five minutes."""
    from falflow.billing.webhook_processing import reprocess_unfinished_events

    while True:
        await asyncio.sleep(STRIPE_REPROCESS_INTERVAL_SECONDS)
        try:
            outcomes = await asyncio.to_thread(reprocess_unfinished_events, context.database, billing.gateway)
            if outcomes:
                logger.info("billing.events_reprocessed", extra={"count": len(outcomes)})
        except Exception:  # noqa: BLE001 - retried at the next interval
            logger.exception("billing.reprocess_failed")


# Bounds of one Platform API call and of the wait for the first catalog refresh at start-up, in seconds.
CATALOG_REQUEST_TIMEOUT_SECONDS = 10.0
CATALOG_STARTUP_BUDGET_SECONDS = 20.0
# After a failed refresh the next attempt comes sooner than the regular interval.
CATALOG_RETRY_SECONDS = 300


def _live_catalog_source(settings: Settings) -> LiveCatalogSource:
    key = settings.fal_key.get_secret_value() if settings.fal_key else ""
    client = FalPlatformClient(settings.fal_platform_url, key, timeout=CATALOG_REQUEST_TIMEOUT_SECONDS)
    return LiveCatalogSource(
        client,
        snapshot_path=(settings.data_dir / "cache" / "fal_platform_catalog.json").resolve(),
        ttl_seconds=settings.catalog_refresh_seconds,
    )


async def _install_live_catalog(source: LiveCatalogSource) -> RefreshOutcome | None:
    """Install the last known live catalog, then refresh it within a time budget.

    Failures are logged, not raised, so start-up goes on with the cached or bundled prices when fal's
    API is slow or unreachable. Returns None when the refresh timed out or crashed.
    """
    try:
        install_catalog(source, catalog_holder)
        return await asyncio.wait_for(refresh_and_install(source, catalog_holder), CATALOG_STARTUP_BUDGET_SECONDS)
    except TimeoutError:
        logger.warning(
            "graph.catalog.startup_refresh_timed_out", extra={"budget_seconds": CATALOG_STARTUP_BUDGET_SECONDS}
        )
    except Exception:  # noqa: BLE001 - prices from the cache or the bundle are better than no start-up
        logger.exception("graph.catalog.startup_refresh_crashed")
    return None


async def _refresh_catalog_periodically(
    source: LiveCatalogSource, services: RunServices, interval: int, *, first_delay: float
) -> None:
    """Refresh fal's prices every `interval` seconds and hand the new catalog to the run engine too."""
    delay = first_delay
    while True:
        await asyncio.sleep(delay)
        try:
            outcome = await refresh_and_install(source, catalog_holder)
            services.catalog = get_catalog()
            delay = min(interval, CATALOG_RETRY_SECONDS) if outcome.failed else interval
        except Exception:  # noqa: BLE001 - retried after the shorter delay
            logger.exception("graph.catalog.refresh_crashed")
            delay = min(interval, CATALOG_RETRY_SECONDS)


@contextlib.asynccontextmanager
async def running_services(
    *, start_engine: bool = True, role: str | None = None, executor_id: str | None = None
) -> AsyncIterator[Runtime]:
    """Start the stand-ins (sandbox mode) and the run engine; stop them on exit.

    `role` defaults to `client` when FALFLOW_RUN_WORKERS_EXTERNAL is set (web processes only
    enqueue) and to `embedded` otherwise.
    """
    context = get_context()
    settings = context.settings
    # Starlette runs synchronous routes and dependencies on anyio's pool (40 threads by default).
    # The run engine bounds its own pool in dbos_config.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
    upgrade_database(settings.resolved_database_url)
    stoppers: list[object] = []
    if role is None:
        role = "client" if settings.run_workers_external else "embedded"

    fal_url = None
    if settings.fal_mode is Mode.SANDBOX:
        fal_url = settings.sandbox_fal_url
        if fal_url is None:
            standin = start_fal_standin(
                FalStandinConfig(time_scale=settings.sandbox_fal_time_scale, timing=Timing()), port=settings.sandbox_fal_port
            )
            stoppers.append(standin)
            fal_url = standin.url
        logger.info("sandbox.fal.ready", extra={"url": fal_url})

    live_catalog = None
    catalog_retry_delay: float = settings.catalog_refresh_seconds
    if settings.fal_mode is Mode.LIVE:
        live_catalog = _live_catalog_source(settings)
        outcome = await _install_live_catalog(live_catalog)
        if outcome is None or outcome.failed:
            catalog_retry_delay = min(settings.catalog_refresh_seconds, CATALOG_RETRY_SECONDS)

    billing = None
    if role != "worker":
        from falflow.billing.stripe_runtime import start_billing

        billing = start_billing(settings, context.database)
        stoppers.append(billing)

    if settings.redis_url:
        from falflow.runs.events import event_bus
        from falflow.runs.relay import RedisRelay

        relay = RedisRelay(event_bus, settings.redis_url)
        relay.start()
        stoppers.append(relay)

    storage = storage_for_settings(settings)
    thumbnails = ThumbnailQueue(context.database, storage)
    stoppers.append(thumbnails)
    services = RunServices(
        context=context,
        catalog=get_catalog(),
        storage=storage,
        make_gateway=_fal_gateway_factory(context, fal_url),
        sandbox=settings.fal_mode is Mode.SANDBOX,
        per_user_concurrency=settings.run_per_user_concurrency,
        global_concurrency=settings.run_global_concurrency,
        node_timeout_seconds=settings.run_node_timeout_seconds,
        max_retries=settings.run_max_retries,
        retry_base_seconds=settings.run_retry_base_seconds,
        thumbnails=thumbnails,
    )
    engine = RunEngine(services, role=role, executor_id=executor_id)
    if settings.gc_freeze:
        # Before the engine resumes workflows, whose objects become garbage in time.
        _freeze_startup_objects()
    if start_engine:
        await engine.launch()
        set_engine(engine)
    runtime = Runtime(context=context, engine=engine, fal_url=fal_url, stoppers=stoppers)
    periodic: list[asyncio.Task[None]] = []
    if start_engine and role != "worker":
        periodic.append(asyncio.create_task(_purge_periodically(context, storage)))
    if billing is not None:
        periodic.append(asyncio.create_task(_reprocess_stripe_events_periodically(context, billing)))
    if live_catalog is not None:
        refresher = _refresh_catalog_periodically(
            live_catalog, services, settings.catalog_refresh_seconds, first_delay=catalog_retry_delay
        )
        periodic.append(asyncio.create_task(refresher))
    try:
        yield runtime
    finally:
        for task in periodic:
            task.cancel()
        if start_engine:
            await engine.shutdown()
            set_engine(None)
        for stopper in reversed(stoppers):
            stopper.stop()  # type: ignore[attr-defined]
        if live_catalog is not None:
            await live_catalog.aclose()


def _freeze_startup_objects() -> None:
    """Move every object alive after start-up into the collector's permanent generation.

    Modules, the catalog and SQLAlchemy's mappers stay alive for the whole process, yet each full
    collection scanned them all again: about 200,000 objects in the API server, which paused it
    for up to 130 ms in a burst of runs. Frozen objects are never collected, so the garbage that
    exists now is collected first.
    """
    gc.collect()
    gc.freeze()
    logger.info("gc.frozen", extra={"objects": gc.get_freeze_count()})


@contextlib.asynccontextmanager
async def app_lifespan() -> AsyncIterator[None]:
    """Run falflow's services for as long as the web process lives."""
    context = get_context()
    configure_logging(context.settings.log_level, json_lines=context.settings.log_json)
    async with running_services():
        logger.info("app.started", extra={"mode": context.settings.mode.value})
        yield
    logger.info("app.stopped")
