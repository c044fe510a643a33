"""Start-up and shut-down of everything the app process runs besides HTTP.

In order: logging, configuration checks (the JWT key), database migrations, the sandbox
stand-ins when no provider keys are set, and the run engine. The same sequence serves the
Reflex backend (as a lifespan task), `python -m falflow.worker` and the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from dataclasses import dataclass, field
from datetime import timedelta

from falflow.assets.config import storage_for_settings
from falflow.assets.service import purge_deleted_assets
from falflow.assets.storage import AssetStorage
from falflow.context import AppContext, get_context
from falflow.integrations.fal import FalGateway, FalGatewayConfig
from falflow.kit.logging import configure_logging
from falflow.kit.migrations import upgrade_database
from falflow.kit.timeutil import utcnow
from falflow.runs.engine import RunEngine, set_engine
from falflow.runs.services import RunServices
from falflow.sandbox.fal import FalStandinConfig, Timing, start_fal_standin
from falflow.settings import Mode
from falflow.workflows.endpoints import get_catalog

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
    config = FalGatewayConfig(key=key, sandbox_url=sandbox_url, poll_interval=settings.fal_poll_interval_seconds)
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
    )
    engine = RunEngine(services, role=role, executor_id=executor_id)
    if start_engine:
        await engine.launch()
        set_engine(engine)
    runtime = Runtime(context=context, engine=engine, fal_url=fal_url, stoppers=stoppers)
    periodic: list[asyncio.Task[None]] = []
    if start_engine and role != "worker":
        periodic.append(asyncio.create_task(_purge_periodically(context, storage)))
    if billing is not None:
        periodic.append(asyncio.create_task(_reprocess_stripe_events_periodically(context, billing)))
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


@contextlib.asynccontextmanager
async def app_lifespan() -> AsyncIterator[None]:
    """Run falflow's services for as long as the web process lives."""
    context = get_context()
    configure_logging(context.settings.log_level, json_lines=context.settings.log_json)
    async with running_services():
        logger.info("app.started", extra={"mode": context.settings.mode.value})
        yield
    logger.info("app.stopped")
