"""The durable run engine, built on DBOS Transact.

A run is a DBOS workflow (`falflow.run`, id = run id) that runs the first ready nodes, planned in
the transaction that created the run (`first_advance`) or else in its own first step. Each
batch item runs as one checkpointed step: execute the item, then advance the run (hand out
what became ready, settle the run when everything is terminal). A successful item advances the
run in the same transaction that records its success. The advance hands new items to the
workflow that made it: that workflow runs one of them as its next step and starts the others
as child workflows (`falflow.run.item`, id = `<run id>:<node id>:<item>`), so a chain runs in
one workflow. DBOS records each finished step, so after a crash or `kill -9` a restarted process
resumes every unfinished workflow at its first unfinished step. The step itself is idempotent
through the item row (see falflow.runs.executor), and a repeated advance hands the workflow the
same items again. Workflow ids are deterministic, so starting one twice attaches to the first.

Callers see only `RunEngine`: `launch`, `start`, `cancel` and `shutdown`. It has three roles:
`embedded` (the default: the web process runs everything), `worker` (`python -m falflow.worker`:
takes runs from the `falflow-runs` queue and recovers dead peers' workflows) and `client` (a web
process when run workers are configured: it only enqueues, through `DBOSClient`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSClient, DBOSConfig, SetWorkflowID
from sqlmodel import Session

from falflow.kit.db import is_sqlite
from falflow.runs import planner, repository
from falflow.runs.events import event_bus
from falflow.runs.executor import execute_item
from falflow.runs.models import Run
from falflow.runs.services import RunServices, configure_run_services, get_run_services
from falflow.runs.states import NodeStatus, RunStatus

logger = logging.getLogger("falflow.runs")

RUN_WORKFLOW = "falflow.run"
ITEM_WORKFLOW = "falflow.run.item"
RUN_QUEUE = "falflow-runs"
NODE_QUEUE = "falflow-nodes"
# A freshly enqueued run or item waits at most this long before a worker picks it up.
RUN_QUEUE_POLL_SECONDS = 0.1
# Planning a run is quick, so a worker takes only a few at a time and leaves the rest to peers.
RUN_QUEUE_WORKER_CONCURRENCY = 4


def item_workflow_id(run_id: str, node_id: str, item_index: int) -> str:
    return f"{run_id}:{node_id}:{item_index}"


def _decision(decision: planner.Advance) -> dict[str, Any]:
    return {
        "start": [[node_id, index] for node_id, index in decision.start],
        "inline": list(decision.inline) if decision.inline is not None else None,
        "finished": decision.finished,
    }


# Set by RunEngine.launch: run workers spread items over every worker through a queue, while
# the embedded engine starts them at once in its own process.
_items_through_queue = False


# DBOS workflow statuses of an owner that may still run the items handed to it.
_LIVE_WORKFLOW_STATUSES = frozenset({"PENDING", "ENQUEUED", "DELAYED"})

# The owner of items handed out outside any workflow (restart, cancel): they start as child workflows.
ENGINE_OWNER = "engine"


def _advance(run_id: uuid.UUID, owner: str = ENGINE_OWNER, *, inline: bool = False) -> dict[str, Any]:
    services = get_run_services()
    with services.context.database.write_session() as session:
        decision = planner.advance_run(session, run_id, services.catalog, owner=owner, inline=inline)
    event_bus.notify(run_id)
    return _decision(decision)


# Both steps are idempotent (the planner re-reads the database, and an item with a stored fal
# request id re-attaches to it), so a transient failure such as SQLite's "database is locked"
# under heavy load is retried instead of leaving the run stuck.
STEP_RETRIES = {"retries_allowed": True, "max_attempts": 6, "interval_seconds": 0.5, "backoff_rate": 2.0}


@DBOS.step(name="falflow.run.advance", **STEP_RETRIES)
async def advance_step(run_id: str) -> dict[str, Any]:
    # Run workers take run workflows a few at a time, so there the first items go to the node
    # queue, which spreads them over every worker, instead of running inside the run workflow.
    return await asyncio.to_thread(_advance, uuid.UUID(run_id), run_id, inline=not _items_through_queue)


@DBOS.step(name="falflow.run.item.execute", **STEP_RETRIES)
async def execute_step(run_id: str, node_id: str, item_index: int, owner: str) -> dict[str, Any]:
    outcome = await execute_item(uuid.UUID(run_id), node_id, item_index, owner)
    if outcome.advance is not None:
        decision = _decision(outcome.advance)
    else:
        decision = await asyncio.to_thread(_advance, uuid.UUID(run_id), owner, inline=True)
    return {"status": outcome.status, **decision}


async def _dispatch(run_id: str, decision: dict[str, Any]) -> None:
    for node_id, item_index in decision["start"]:
        with SetWorkflowID(item_workflow_id(run_id, node_id, item_index)):
            if _items_through_queue:
                await DBOS.enqueue_workflow_async(NODE_QUEUE, item_workflow, run_id, node_id, item_index)
            else:
                await DBOS.start_workflow_async(item_workflow, run_id, node_id, item_index)


async def _carry_on(run_id: str, owner: str, decision: dict[str, Any]) -> None:
    """Start the child items of each decision, and run its inline item as this workflow's next step.

    The loop depends only on recorded step outputs, so a recovered workflow takes the same path.
    """
    while True:
        await _dispatch(run_id, decision)
        inline = decision.get("inline")
        if inline is None:
            return
        decision = await execute_step(run_id, inline[0], inline[1], owner)


@DBOS.workflow(name=RUN_WORKFLOW)
async def run_workflow(run_id: str, decision: dict[str, Any] | None = None) -> None:
    """Run the items of `decision`, the first advance made with the run, or plan them first without one.

    DBOS stores the arguments with the workflow, so a recovered workflow takes the same path.
    """
    if decision is None:
        decision = await advance_step(run_id)
    await _carry_on(run_id, run_id, decision)


def first_advance(session: Session, run: Run) -> dict[str, Any] | None:
    """Plan a new run's first items in the transaction that creates it, when this process runs them.

    This saves the run workflow a step and a transaction of its own. The items are handed to the
    run workflow, which gets the returned decision from `RunEngine.start`. Returns None in a web
    process with run workers, whose run workflow plans the run itself.
    """
    engine = get_engine()
    if engine.role != "embedded":
        return None
    decision = planner.advance_run(
        session, run.id, engine.services.catalog, owner=str(run.id), inline=True, locked_run=run
    )
    return _decision(decision)


@DBOS.workflow(name=ITEM_WORKFLOW)
async def item_workflow(run_id: str, node_id: str, item_index: int) -> str:
    owner = item_workflow_id(run_id, node_id, item_index)
    decision = await execute_step(run_id, node_id, item_index, owner)
    await _carry_on(run_id, owner, decision)
    return str(decision["status"])


def system_database_url(database_url: str, data_dir: Path) -> str:
    """Return the engine's own database URL: a SQLite file beside the app's, or the app's PostgreSQL database."""
    if is_sqlite(database_url):
        return f"sqlite:///{(data_dir / 'falflow_engine.sqlite').resolve()}"
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_system_engine(url: str) -> sa.Engine:
    """Create the SQLAlchemy engine for DBOS's SQLite file, in WAL mode with `synchronous=NORMAL`.

    DBOS's own SQLite engine keeps the rollback journal with a full sync on every commit,
    which costs several milliseconds per checkpoint; WAL keeps commits durable against a
    process crash and lets readers run beside the writer.
    """
    engine = sa.create_engine(url, pool_size=20, max_overflow=20, pool_timeout=60)

    @sa.event.listens_for(engine, "connect")
    def configure(connection: Any, _record: Any) -> None:
        connection.isolation_level = "IMMEDIATE"  # writers queue up instead of failing on upgrade
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")

    return engine


def dbos_config(
    database_url: str, data_dir: Path, *, executor_id: str | None = None, threads: int
) -> DBOSConfig:
    """DBOS settings: a SQLite file beside the app database, or a `dbos` schema in PostgreSQL.

    DBOS makes its thread pool the event loop's default executor, so `threads` bounds every
    `asyncio.to_thread` call in the process. Unbounded (DBOS's default), 200 concurrent runs left
    about 235 threads behind, and memory grew with each wave of runs that needed more.
    """
    system_url = system_database_url(database_url, data_dir)
    config: DBOSConfig = {
        "name": "falflow",
        "system_database_url": system_url,
        "dbos_system_schema": "dbos",
        "log_level": "WARNING",
        # NOTE: a process resumes only workflows of its own version, so runs in flight when this
        # changes stay `running` until cancelled (docs/deploy.md). Change it with the steps.
        "application_version": "falflow-3",
        "notification_listener_polling_interval_sec": 0.1,
        "max_executor_threads": threads,
    }
    if is_sqlite(system_url):
        config["system_database_engine"] = _sqlite_system_engine(system_url)
    if executor_id:
        config["executor_id"] = executor_id
    return config


class RunEngine:
    """Starts, cancels and recovers runs; one per process."""

    def __init__(self, services: RunServices, *, role: str = "embedded", executor_id: str | None = None) -> None:
        if role not in ("embedded", "worker", "client"):
            raise ValueError(f"unknown engine role {role!r}")
        self.services = services
        self.role = role
        self._executor_id = executor_id
        self._launched = False
        self._client: DBOSClient | None = None
        self._peer_watch: asyncio.Task[None] | None = None
        # DBOS leaves a custom system database engine open on destroy, so shutdown disposes it.
        self._system_engine: sa.Engine | None = None

    async def launch(self) -> None:
        configure_run_services(self.services)
        settings = self.services.context.settings
        if self.role == "client":
            url = system_database_url(settings.resolved_database_url, settings.data_dir)
            await asyncio.to_thread(DBOS.migrate, url)
            self._client = DBOSClient(system_database_url=url)
            logger.info("engine.client_ready")
            return
        config = dbos_config(
            settings.resolved_database_url, settings.data_dir, executor_id=self._executor_id, threads=settings.engine_threads
        )
        self._system_engine = config.get("system_database_engine")
        DBOS(config=config)
        await asyncio.to_thread(DBOS.launch)
        self._launched = True
        global _items_through_queue
        _items_through_queue = self.role == "worker"
        if self.role == "worker":
            from falflow.runs import workers

            await DBOS.register_queue_async(
                RUN_QUEUE, worker_concurrency=RUN_QUEUE_WORKER_CONCURRENCY, polling_interval_sec=RUN_QUEUE_POLL_SECONDS
            )
            # NOTE: the per-user cap is enforced per process (RunServices.slot); with several
            # workers a user may have that many requests in flight on each of them.
            await DBOS.register_queue_async(
                NODE_QUEUE, worker_concurrency=self.services.global_concurrency, polling_interval_sec=RUN_QUEUE_POLL_SECONDS
            )
            executor_id = self._executor_id or "local"
            await asyncio.to_thread(workers.register_worker, self.services.context, executor_id)
            self._peer_watch = asyncio.create_task(workers.watch_peers(self.services.context, executor_id, self._recover_peer))
        await self.reconcile()
        logger.info("engine.launched", extra={"role": self.role, "executor_id": self._executor_id or "local"})

    async def _recover_peer(self, dead_executor_id: str) -> None:
        # NOTE: DBOS 3.4 offers recovery of another executor's workflows only through this
        # underscore method; it re-enqueues them so that exactly one live worker runs each.
        handles = await asyncio.to_thread(DBOS._recover_pending_workflows, [dead_executor_id])
        logger.warning("engine.peer_recovered", extra={"dead_executor_id": dead_executor_id, "workflows": len(handles)})

    async def reconcile(self) -> None:
        """Restart work that a crash left between a committed transaction and its workflow start."""
        active = [RunStatus.QUEUED.value, RunStatus.RUNNING.value, RunStatus.CANCELLING.value]

        def active_runs() -> list[uuid.UUID]:
            with self.services.context.database.read_session() as session:
                return [run.id for run in repository.list_runs_with_status(session, active)]

        for run_id in await asyncio.to_thread(active_runs):
            await self.start(run_id)
            # Every starting worker does this too. Two of them may release and start the same
            # items; the workflow ids are deterministic, so the second start attaches to the first.
            await self._release_stranded(run_id)
            # Also start any planned item that was never handed to DBOS.
            decision = await asyncio.to_thread(_advance, run_id)
            await _dispatch(str(run_id), decision)

    async def _release_stranded(self, run_id: uuid.UUID) -> None:
        """Hand the engine the unsent items that no live workflow will run.

        An item handed out to run inline is stranded when its owner workflow has ended. One
        handed out to start as a child workflow is stranded when that child was never started and
        its owner has ended. A live child runs its item itself, even when the item is back in the
        queue for a retry. The items go to `ENGINE_OWNER` in one guarded UPDATE, so that no other
        workflow's advance takes one inline while the engine starts it.
        """
        # NOTE: a child workflow that ended without sending its item (its step failed every retry)
        # keeps the item, so the item waits unsent. Starting the same workflow id again only attaches.

        def unsent() -> list[tuple[str, int, str]]:
            with self.services.context.database.read_session() as session:
                return [
                    (item.node_id, item.item_index, item.dispatched_by) for item in repository.items_of(session, run_id)
                    if item.status == NodeStatus.QUEUED and item.fal_request_id is None
                    and item.dispatched_by not in (None, ENGINE_OWNER)
                ]

        owners_ended: dict[str, bool] = {}

        async def ended(workflow_id: str) -> bool:
            if workflow_id not in owners_ended:
                status = await DBOS.get_workflow_status_async(workflow_id)
                owners_ended[workflow_id] = status is None or status.status not in _LIVE_WORKFLOW_STATUSES
            return owners_ended[workflow_id]

        stranded = []
        for node_id, item_index, owner in await asyncio.to_thread(unsent):
            if owner.startswith("inline:"):
                if await ended(owner.removeprefix("inline:")):
                    stranded.append((node_id, item_index, owner))
                continue
            child = item_workflow_id(str(run_id), node_id, item_index)
            if await ended(owner) and await DBOS.get_workflow_status_async(child) is None:
                stranded.append((node_id, item_index, owner))
        if stranded:
            def release() -> None:
                with self.services.context.database.write_session() as session:
                    repository.release_unsent_items(session, run_id, stranded, to_owner=ENGINE_OWNER)

            await asyncio.to_thread(release)
            logger.warning("engine.items_released", extra={"run_id": str(run_id), "items": len(stranded)})

    async def start(self, run_id: uuid.UUID, decision: dict[str, Any] | None = None) -> None:
        """Start the run's workflow; `decision` is its committed first advance (`first_advance`), if any."""
        if self.role == "client":
            assert self._client is not None
            await self._client.enqueue_async(
                {"queue_name": RUN_QUEUE, "workflow_name": RUN_WORKFLOW, "workflow_id": str(run_id)}, str(run_id)
            )
            return
        if self.role == "worker":
            with SetWorkflowID(str(run_id)):
                await DBOS.enqueue_workflow_async(RUN_QUEUE, run_workflow, str(run_id))
            return
        if decision is not None:
            # The first advance wrote run events in the request's transaction, which has committed.
            event_bus.notify(run_id)
        with SetWorkflowID(str(run_id)):
            await DBOS.start_workflow_async(run_workflow, str(run_id), decision)

    async def cancel(self, run_id: uuid.UUID) -> None:
        """Stop a run the API marked as cancelling: waiting items end now, in-flight ones are cancelled at fal.

        Items running in another process notice the cancellation at their next status check.
        """
        self.services.cancelled_runs.add(run_id)
        decision = await asyncio.to_thread(_advance, run_id)
        if self.role != "client":
            await _dispatch(str(run_id), decision)

    async def shutdown(self) -> None:
        if self._peer_watch is not None:
            self._peer_watch.cancel()
            self._peer_watch = None
        if self._client is not None:
            await asyncio.to_thread(self._client.destroy)
            self._client = None
        if self._launched:
            await self.services.aclose()
            await asyncio.to_thread(DBOS.destroy, workflow_completion_timeout_sec=0)
            if self._system_engine is not None:
                self._system_engine.dispose()
                self._system_engine = None
            self._launched = False
        configure_run_services(None)


_engine: RunEngine | None = None


def set_engine(engine: RunEngine | None) -> None:
    global _engine
    _engine = engine


def get_engine() -> RunEngine:
    if _engine is None:
        raise RuntimeError("the run engine has not been launched in this process")
    return _engine
