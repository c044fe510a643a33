"""Execution of one run item: a fal request from submit to stored assets, or an image upload.

Each function here is safe to run again after a crash. The item row is the checkpoint: an
item with a stored fal request id is re-attached to that request and never submitted again,
and a finished item is left alone. The only unavoidable gap is a crash after fal accepted a
submit and before its request id was committed (milliseconds).

Retry policy: retryable failures (429, 5xx, timeouts, connection errors) are retried with
exponential backoff and jitter, up to `max_retries` times; a status poll that fails re-attaches
to the same request, and only a failed submit or a failed result submits anew. Validation
(422) and account errors are never retried. A node is charged only when it succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from falflow.assets import service as assets
from falflow.assets.models import Asset
from falflow.billing import ledger
from falflow.graph.cache import cache_key
from falflow.graph.cost import actual_cost
from falflow.graph.errors import GraphError
from falflow.graph.evaluate import extract_outputs
from falflow.graph.specs import NodeSpec
from falflow.graph.utility_specs import UTIL_IMAGE_INPUT
from falflow.integrations.fal import (
    CancelOutcome,
    FalError,
    FalRequestState,
    FalRetryableError,
    FalStatus,
    FalValidationError,
)
from falflow.kit.errors import NotFoundError
from falflow.kit.timeutil import utcnow
from falflow.runs import planner, repository
from falflow.runs.events import EventDraft, append_events, event_bus
from falflow.runs.models import RunNodeItem
from falflow.runs.services import RunServices, get_run_services
from falflow.runs.states import NODE_TERMINAL, NodeStatus, RunStatus

logger = logging.getLogger("falflow.runs")

_PROGRESS = re.compile(r"(\d+)\s*/\s*(\d+)")
_MEDIA_CONTENT_TYPES = ("image/*", "video/*", "audio/*", "application/octet-stream", "text/plain", "application/json")


class RunCancelledError(Exception):
    """The run was cancelled while this item was waiting or running."""


@dataclass
class ItemOutcome:
    """The terminal status of an item, with the run's advance when the item's final transaction made it."""

    status: str
    advance: planner.Advance | None = None


@dataclass
class ItemContext:
    run_id: uuid.UUID
    owner_id: uuid.UUID
    workflow_id: uuid.UUID
    node_id: str
    item_index: int
    node_type: str
    force: bool
    run_status: RunStatus
    item: RunNodeItem
    url_assets: dict[str, Asset]
    # The engine workflow running this item, which acts on the run's advance.
    workflow_owner: str
    advance: planner.Advance | None = None
    status_writer: _StatusWriter | None = None
    # Changes written with the item's next write instead of a transaction of their own: the
    # pick-up time, and what the completed status reported (its last log lines).
    deferred_drafts: list[EventDraft] = field(default_factory=list)
    deferred_changes: dict[str, Any] = field(default_factory=dict)

    def take_deferred(self) -> tuple[list[EventDraft], dict[str, Any]]:
        drafts, changes = self.deferred_drafts, self.deferred_changes
        self.deferred_drafts, self.deferred_changes = [], {}
        return drafts, changes


def _load(services: RunServices, run_id: uuid.UUID, node_id: str, item_index: int, owner: str) -> ItemContext | None:
    """Read the item and what it needs without writing: the item's next write records the pick-up time."""
    with services.context.database.read_session() as session:
        run = repository.get_run(session, run_id)
        item = repository.get_item(session, run_id, node_id, item_index)
        node = repository.get_node(session, run_id, node_id)
        if run is None or item is None or node is None:
            return None
        url_assets = _upstream_assets(session, run_id, item.arguments or {})
    ctx = ItemContext(
        run_id=run_id, owner_id=run.owner_id, workflow_id=run.workflow_id, node_id=node_id, item_index=item_index,
        node_type=node.node_type, force=bool(run.options.get("force")), run_status=RunStatus(run.status),
        item=item, url_assets=url_assets, workflow_owner=owner,
    )
    if item.dispatched_at is None:
        ctx.deferred_changes["dispatched_at"] = utcnow()
    return ctx


def _upstream_assets(session: Any, run_id: uuid.UUID, arguments: dict[str, Any]) -> dict[str, Asset]:
    """Map the URLs in `arguments` that came from stored assets to those assets (for lineage and caching)."""
    by_url: dict[str, uuid.UUID] = {}
    for outputs in repository.node_outputs_of(session, run_id):
        for value in _walk(outputs or {}):
            if isinstance(value, dict) and isinstance(value.get("url"), str) and value.get("asset_id"):
                by_url[value["url"]] = uuid.UUID(str(value["asset_id"]))
    wanted = {by_url[url] for url in _walk(arguments) if isinstance(url, str) and url in by_url}
    if not wanted:
        return {}
    rows = {asset_id: session.get(Asset, asset_id) for asset_id in wanted}
    return {url: rows[asset_id] for url, asset_id in by_url.items() if rows.get(asset_id) is not None}


def _walk(value: Any) -> list[Any]:
    found: list[Any] = []
    stack = [value]
    while stack:
        current = stack.pop()
        found.append(current)
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


def _record(services: RunServices, ctx: ItemContext, drafts: list[EventDraft], **changes: Any) -> RunNodeItem:
    """Apply `changes` to the item and append `drafts` in one transaction, then wake listeners."""
    deferred_drafts, deferred_changes = ctx.take_deferred()
    drafts = deferred_drafts + drafts
    changes = {**deferred_changes, **changes}
    _write(services, ctx, drafts, changes)
    for name, value in changes.items():
        setattr(ctx.item, name, value)
    return ctx.item


def _write(services: RunServices, ctx: ItemContext, drafts: list[EventDraft], changes: dict[str, Any]) -> None:
    """Store item changes and events in one transaction, then wake listeners.

    Besides this executor, only the planner writes an item (it cancels items not yet sent), so
    one UPDATE applies the changes without reading the row first.
    """
    with services.context.database.write_session() as session:
        if changes:
            repository.update_item(session, ctx.run_id, ctx.node_id, ctx.item_index, changes)
        for draft in drafts:
            draft.node_id = ctx.node_id
            draft.item_index = ctx.item_index
        append_events(session, ctx.run_id, drafts)
    event_bus.notify(ctx.run_id)


class _StatusWriter:
    """Background writer of an item's status changes (queue position, state, log lines, progress).

    The watch loop goes on while a write runs, and changes that arrive during a write go into
    the next one, so a burst of log lines costs one transaction.
    """

    def __init__(self, services: RunServices, ctx: ItemContext) -> None:
        self._services = services
        self._ctx = ctx
        self._drafts: list[EventDraft] = []
        self._changes: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, drafts: list[EventDraft], changes: dict[str, Any]) -> None:
        if not drafts and not changes:
            return
        self._drafts.extend(drafts)
        self._changes.update(changes)
        if self._task is None or (self._task.done() and self._task.exception() is None):
            self._task = asyncio.create_task(self._drain())
        # After a failed write the failed task stays, so that `flush` raises its error.

    async def _drain(self) -> None:
        while self._drafts or self._changes:
            drafts, changes = self._drafts, self._changes
            self._drafts, self._changes = [], {}
            await asyncio.to_thread(_write, self._services, self._ctx, drafts, changes)

    async def flush(self) -> None:
        """Wait until every change is stored; a failed write raises here.

        The wait is shielded: a timeout that cancels the caller leaves the write running, and
        `settle` waits for it before the item's final write.
        """
        while self._task is not None:
            task = self._task
            await asyncio.shield(task)
            if task is self._task:
                self._task = None

    async def settle(self) -> None:
        """Wait for a write still running, so that the item's final write comes after it."""
        task = self._task
        if task is None:
            return
        try:
            await task
        except Exception as exc:  # noqa: BLE001 - the final write that follows records the item's outcome
            logger.warning("run.node.status_write_failed", extra={
                "run_id": str(self._ctx.run_id), "node_id": self._ctx.node_id, "error": str(exc)[:300],
            })


def _run_is_cancelled(services: RunServices, run_id: uuid.UUID) -> bool:
    if run_id in services.cancelled_runs:
        return True
    with services.context.database.read_session() as session:
        run = repository.get_run(session, run_id)
        return run is None or run.status in (RunStatus.CANCELLING, RunStatus.CANCELLED)


async def execute_item(run_id: uuid.UUID, node_id: str, item_index: int, owner: str) -> ItemOutcome:
    """Bring one item to a terminal status; return that status and the run's advance when it ran here.

    `owner` is the engine workflow running the item; the run's advance hands new items to it.
    """
    services = get_run_services()
    ctx = await asyncio.to_thread(_load, services, run_id, node_id, item_index, owner)
    if ctx is None:
        return ItemOutcome("missing")
    if NodeStatus(ctx.item.status) in NODE_TERMINAL:
        return ItemOutcome(ctx.item.status)
    spec = services.catalog.get(ctx.node_type)
    if spec is None:
        await asyncio.to_thread(_fail, services, ctx, f"node type '{ctx.node_type}' is not in the catalog", "unknown_node_type")
        return ItemOutcome(NodeStatus.FAILED.value)
    try:
        if ctx.run_status in (RunStatus.CANCELLING, RunStatus.CANCELLED):
            raise RunCancelledError
        async with services.slot(ctx.owner_id) as waited:
            # `_load` has just read the run's status, so only a wait for the slot can make it stale.
            if run_id in services.cancelled_runs or (waited and await asyncio.to_thread(_run_is_cancelled, services, run_id)):
                raise RunCancelledError
            if ctx.node_type == UTIL_IMAGE_INPUT:
                await _upload_image_input(services, ctx)
            else:
                await _run_fal_item(services, ctx, spec)
    except RunCancelledError:
        await _cancel_item(services, ctx)
    return ItemOutcome(ctx.item.status, ctx.advance)


async def _upload_image_input(services: RunServices, ctx: ItemContext) -> None:
    """Send an uploaded asset to fal's storage so that fal endpoints can fetch it."""
    arguments = ctx.item.arguments or {}
    asset_id = arguments.get("asset_id")

    def load_bytes() -> tuple[Asset, bytes] | None:
        with services.context.database.read_session() as session:
            try:
                asset = assets.get_asset_for_owner(session, ctx.owner_id, uuid.UUID(str(asset_id)))
            except (ValueError, NotFoundError):
                return None
        return asset, services.storage.get(asset.storage_key)

    loaded = await asyncio.to_thread(load_bytes)
    if loaded is None:
        await asyncio.to_thread(
            _fail, services, ctx, f"asset '{asset_id}' was not found among your assets; pick another image", "asset_not_found"
        )
        return
    asset, data = loaded
    try:
        url = await services.gateway().upload(data, asset.mime_type, f"{asset.id}")
    except FalError as exc:
        await asyncio.to_thread(_fail, services, ctx, str(exc), "upload_failed")
        return
    image = {"asset_id": str(asset.id), "url": url, "content_type": asset.mime_type, "width": asset.width, "height": asset.height}
    await asyncio.to_thread(
        _record, services, ctx, [EventDraft("item.status", data={"status": "succeeded", "outputs": {"image": image}})],
        status=NodeStatus.SUCCEEDED.value, outputs={"image": image}, asset_ids=[str(asset.id)], finished_at=utcnow(),
    )


def _input_hashes(ctx: ItemContext) -> dict[str, str]:
    return {url: asset.sha256 for url, asset in ctx.url_assets.items()}


async def _run_fal_item(services: RunServices, ctx: ItemContext, spec: NodeSpec) -> None:
    arguments = dict(ctx.item.arguments or {})
    endpoint_id = spec.type
    key = cache_key(endpoint_id, arguments, _input_hashes(ctx))
    if not ctx.force and ctx.item.fal_request_id is None and await asyncio.to_thread(_reuse_cached, services, ctx, key):
        return

    gateway = services.gateway()
    attempt = ctx.item.attempts  # submissions so far, kept across restarts
    retries = 0
    request_id = ctx.item.fal_request_id
    started = time.monotonic()
    while True:
        try:
            if request_id is None:
                submitted = await gateway.submit(endpoint_id, arguments)
                request_id = submitted.request_id
                attempt += 1
                await asyncio.to_thread(
                    _record, services, ctx,
                    [EventDraft("item.status", data={"status": "submitted", "fal_request_id": request_id, "attempt": attempt})],
                    fal_request_id=request_id, status=NodeStatus.SUBMITTED.value, attempts=attempt, submitted_at=utcnow(),
                    cache_key=key,
                )
            remaining = services.node_timeout_seconds - (time.monotonic() - started)
            async with asyncio.timeout(max(remaining, 0.001)):
                await _follow(services, ctx, endpoint_id, request_id)
                result = await gateway.result(endpoint_id, request_id, completed=True)
            break
        except RunCancelledError:
            raise
        except TimeoutError:
            if ctx.status_writer is not None:
                await ctx.status_writer.settle()
            await _cancel_at_fal(services, ctx, endpoint_id, request_id)
            await asyncio.to_thread(
                _fail, services, ctx,
                f"timed out after {services.node_timeout_seconds:g} s; fal was asked to cancel the request. "
                "Retry, or raise the node timeout (FALFLOW_RUN_NODE_TIMEOUT_SECONDS).",
                "timeout",
            )
            return
        except FalError as exc:
            if not exc.retryable or retries >= services.max_retries:
                code = "fal_validation_error" if isinstance(exc, FalValidationError) else type(exc).__name__
                await asyncio.to_thread(_fail, services, ctx, _error_message(exc, retries + 1), code)
                return
            retries += 1
            delay = services.retry_base_seconds * (2 ** (retries - 1)) * (0.5 + random.random())
            failed_request = request_id
            request_id = None  # the next attempt submits anew
            await asyncio.to_thread(
                _record, services, ctx,
                [EventDraft("item.retry", data={"error": str(exc), "retry": retries, "delay_seconds": round(delay, 3),
                                                "failed_request_id": failed_request})],
                fal_request_id=None, status=NodeStatus.QUEUED.value,
            )
            logger.info("run.node.retrying", extra={"run_id": str(ctx.run_id), "node_id": ctx.node_id, "retry": retries})
            await asyncio.sleep(delay)
    await _store_result(services, ctx, spec, arguments, result, request_id)


def _error_message(exc: FalError, tries: int) -> str:
    suffix = f" (gave up after {tries} tries)" if tries > 1 and exc.retryable else ""
    return f"{exc}{suffix}"


async def _follow(services: RunServices, ctx: ItemContext, endpoint_id: str, request_id: str) -> None:
    """Record queue positions, log lines and progress until fal reports the request completed.

    The completed status's own changes are kept for the item's final transaction.
    """
    gateway = services.gateway()
    writer = ctx.status_writer = _StatusWriter(services, ctx)
    last_check = time.monotonic()
    logs_seen = 0
    try:
        while True:
            try:
                async for status in gateway.watch(endpoint_id, request_id, logs_seen=logs_seen):
                    logs_seen = status.logs_seen
                    drafts, changes = _status_changes(ctx, status)
                    for name, value in changes.items():
                        setattr(ctx.item, name, value)
                    if status.is_completed:
                        ctx.deferred_drafts.extend(drafts)
                        ctx.deferred_changes.update(changes)
                        return
                    writer.add(drafts, changes)
                    if time.monotonic() - last_check >= services.cancel_check_seconds or ctx.run_id in services.cancelled_runs:
                        last_check = time.monotonic()
                        if await asyncio.to_thread(_run_is_cancelled, services, ctx.run_id):
                            raise RunCancelledError
                return
            except FalRetryableError:
                # Following failed past the gateway's own retries, but the request itself may be fine.
                await asyncio.sleep(services.retry_base_seconds)
    finally:
        await writer.flush()


def _status_changes(ctx: ItemContext, status: FalStatus) -> tuple[list[EventDraft], dict[str, Any]]:
    drafts: list[EventDraft] = []
    changes: dict[str, Any] = {}
    if status.state == FalRequestState.QUEUED and status.queue_position != ctx.item.queue_position:
        changes["queue_position"] = status.queue_position
        drafts.append(EventDraft("item.queue", data={"queue_position": status.queue_position}))
    if status.state != FalRequestState.QUEUED and ctx.item.status == NodeStatus.SUBMITTED:
        changes["status"] = NodeStatus.RUNNING.value
        changes["queue_position"] = None
        drafts.append(EventDraft("item.status", data={"status": "running"}))
    progress = ctx.item.progress
    for log in status.logs:
        drafts.append(EventDraft("item.log", data={"message": log.message[:2000], "level": log.level}))
        match = _PROGRESS.search(log.message)
        if match and int(match.group(2)) > 0:
            progress = min(1.0, int(match.group(1)) / int(match.group(2)))
    if progress != ctx.item.progress:
        changes["progress"] = progress
        drafts.append(EventDraft("item.progress", data={"progress": progress}))
    return drafts, changes


async def _store_result(
    services: RunServices, ctx: ItemContext, spec: NodeSpec, arguments: dict[str, Any], result: dict[str, Any], request_id: str
) -> None:
    try:
        outputs = extract_outputs(spec, result)
        cost = actual_cost(spec, arguments, result, margin_bps=services.context.settings.price_margin_bps)
    except GraphError as exc:
        await asyncio.to_thread(_fail, services, ctx, f"fal returned an unexpected result: {exc}", "bad_result")
        return
    gateway = services.gateway()
    media: list[dict[str, Any]] = [v for v in _walk(outputs) if isinstance(v, dict) and isinstance(v.get("url"), str)]
    downloads: list[tuple[dict[str, Any], bytes, str]] = []
    try:
        for value in media:
            file = await gateway.download_media(
                value["url"], max_bytes=services.context.settings.max_download_bytes, allowed_content_types=_MEDIA_CONTENT_TYPES
            )
            downloads.append((value, file.data, file.content_type))
    except FalError as exc:
        await asyncio.to_thread(_fail, services, ctx, f"the output file could not be copied: {exc}", "download_failed")
        return
    await asyncio.to_thread(_finish_success, services, ctx, spec, arguments, outputs, downloads, cost, request_id)


def _finish_success(
    services: RunServices, ctx: ItemContext, spec: NodeSpec, arguments: dict[str, Any], outputs: dict[str, Any],
    downloads: list[tuple[dict[str, Any], bytes, str]], cost: int, request_id: str,
) -> None:
    """Store the assets, charge the node, mark the item succeeded and advance the run, all in one transaction.

    The files are written first, outside the transaction, so that they do not hold the write lock,
    and their thumbnails are rendered after it on the thumbnail queue, when the engine has one.
    Files whose rows are not stored in the end are removed again.
    """
    parents = [asset.id for asset in ctx.url_assets.values()]
    prompt = arguments.get("prompt") if isinstance(arguments.get("prompt"), str) else None
    prepared: list[assets.PreparedFile] = []
    charged: int | None = None
    try:
        for _value, data, content_type in downloads:
            prepared.append(assets.prepare_file(
                services.context.database.read_session, services.storage, owner_id=ctx.owner_id, data=data,
                content_type=content_type, run_id=ctx.run_id, defer_thumbnail=services.thumbnails is not None,
            ))
        charged = _commit_success(services, ctx, spec, arguments, outputs, downloads, prepared, cost, request_id,
                                  parents=parents, prompt=prompt)
    finally:
        if charged is None:
            assets.discard_prepared(services.context.database.read_session, services.storage, prepared)
    if charged is not None:
        # Queued before listeners wake, so that the queue usually renders before a page requests it.
        if services.thumbnails is not None:
            for file in prepared:
                if file.thumbnail_pending and file.thumbnail_key:
                    services.thumbnails.submit(storage_key=file.storage_key, thumbnail_key=file.thumbnail_key)
        event_bus.notify(ctx.run_id)
        logger.info("run.node.succeeded", extra={"run_id": str(ctx.run_id), "node_id": ctx.node_id, "cost_credits": charged})


def _commit_success(
    services: RunServices, ctx: ItemContext, spec: NodeSpec, arguments: dict[str, Any], outputs: dict[str, Any],
    downloads: list[tuple[dict[str, Any], bytes, str]], prepared: list[assets.PreparedFile], cost: int,
    request_id: str, *, parents: list[uuid.UUID], prompt: str | None,
) -> int | None:
    """Write the item's success in one transaction; return the credits charged, or None when it had ended already."""
    with services.context.database.write_session() as session:
        # The run row first: the planner locks it too, and one lock order avoids deadlocks on PostgreSQL.
        run = repository.lock_run(session, ctx.run_id)
        item = repository.get_item(session, ctx.run_id, ctx.node_id, ctx.item_index)
        assert item is not None and run is not None
        if NodeStatus(item.status) in NODE_TERMINAL:
            return None
        deferred_drafts, deferred_changes = ctx.take_deferred()
        for name, value in deferred_changes.items():
            setattr(item, name, value)
        charged = 0
        if run.reservation_id is not None and cost > 0:
            charged = ledger.charge_reservation(
                session, reservation_id=run.reservation_id, amount=cost,
                idempotency_key=f"run:{ctx.run_id}:node:{ctx.node_id}:{ctx.item_index}",
                node_id=ctx.node_id, endpoint_id=spec.type, memo=f"{spec.title} ({ctx.node_id})",
            )
        asset_ids: list[str] = []
        for (value, data, content_type), file in zip(downloads, prepared, strict=True):
            asset = assets.store_asset(
                session, services.storage, owner_id=ctx.owner_id, data=data, content_type=content_type,
                workflow_id=ctx.workflow_id, run_id=ctx.run_id, node_id=ctx.node_id, item_index=ctx.item_index,
                endpoint_id=spec.type, params=arguments, seed=item.seed, cost_credits=charged if not asset_ids else 0,
                parent_asset_ids=parents, prompt=prompt, source_url=value["url"], sandbox=services.sandbox,
                prepared=file,
            )
            value["asset_id"] = str(asset.id)
            asset_ids.append(str(asset.id))
        item.status = NodeStatus.SUCCEEDED.value
        item.outputs = outputs
        item.asset_ids = asset_ids
        item.cost_credits = charged
        item.progress = 1.0
        item.queue_position = None
        item.finished_at = utcnow()
        session.add(item)
        if item.cache_key:
            repository.add_cache_entry(
                session, owner_id=ctx.owner_id, cache_key=item.cache_key, endpoint_id=spec.type, outputs=outputs,
                asset_ids=asset_ids, source_run_id=ctx.run_id, source_node_id=ctx.node_id,
            )
        for draft in deferred_drafts:
            draft.node_id = ctx.node_id
            draft.item_index = ctx.item_index
        append_events(session, ctx.run_id, [*deferred_drafts, EventDraft(
            "item.status", node_id=ctx.node_id, item_index=ctx.item_index,
            data={"status": "succeeded", "cost_credits": charged, "asset_ids": asset_ids, "outputs": outputs,
                  "fal_request_id": request_id},
        )])
        ctx.advance = planner.advance_run(
            session, ctx.run_id, services.catalog, owner=ctx.workflow_owner, inline=True, locked_run=run
        )
    return charged


def _reuse_cached(services: RunServices, ctx: ItemContext, key: str) -> bool:
    """Finish the item from the cache when the owner already has this exact result; no charge."""
    # Most lookups miss, and a read finds that out without waiting for the write lock.
    with services.context.database.read_session() as session:
        if repository.get_cache_entry(session, ctx.owner_id, key) is None:
            return False
    with services.context.database.write_session() as session:
        entry = repository.get_cache_entry(session, ctx.owner_id, key)
        if entry is None:
            return False
        sources = {}
        for asset_id in entry.asset_ids:
            try:
                sources[asset_id] = assets.get_asset_for_owner(session, ctx.owner_id, uuid.UUID(asset_id))
            except NotFoundError:
                return False  # a deleted source asset makes the entry unusable
        item = repository.get_item(session, ctx.run_id, ctx.node_id, ctx.item_index)
        assert item is not None
        outputs = _copy_json(entry.outputs)
        asset_ids: list[str] = []
        for value in _walk(outputs):
            if isinstance(value, dict) and value.get("asset_id") in sources:
                copy = assets.reuse_asset(
                    session, source=sources[value["asset_id"]], run_id=ctx.run_id, node_id=ctx.node_id,
                    item_index=ctx.item_index, workflow_id=ctx.workflow_id,
                )
                value["asset_id"] = str(copy.id)
                asset_ids.append(str(copy.id))
        item.status = NodeStatus.REUSED.value
        item.outputs = outputs
        item.asset_ids = asset_ids
        item.cost_credits = 0
        item.finished_at = utcnow()
        session.add(item)
        append_events(session, ctx.run_id, [EventDraft(
            "item.status", node_id=ctx.node_id, item_index=ctx.item_index,
            data={"status": "reused", "cost_credits": 0, "asset_ids": asset_ids, "outputs": outputs,
                  "reused_from_run_id": str(entry.source_run_id)},
        )])
    event_bus.notify(ctx.run_id)
    ctx.item = item
    return True


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _fail(services: RunServices, ctx: ItemContext, message: str, code: str) -> None:
    logger.warning("run.node.failed", extra={"run_id": str(ctx.run_id), "node_id": ctx.node_id, "error_code": code})
    _record(
        services, ctx, [EventDraft("item.status", data={"status": "failed", "error": message, "error_code": code})],
        status=NodeStatus.FAILED.value, error=message, error_code=code, finished_at=utcnow(), queue_position=None,
    )


async def _cancel_at_fal(services: RunServices, ctx: ItemContext, endpoint_id: str, request_id: str | None) -> bool:
    """Ask fal to cancel; return True when fal may still bill the request (it was already running)."""
    if request_id is None:
        return False
    try:
        outcome = await services.gateway().cancel(endpoint_id, request_id)
    except FalError as exc:
        logger.warning("run.node.cancel_failed", extra={"run_id": str(ctx.run_id), "node_id": ctx.node_id, "error": str(exc)})
        return True
    was_running = ctx.item.status == NodeStatus.RUNNING
    return outcome == CancelOutcome.ALREADY_COMPLETED or (outcome == CancelOutcome.REQUESTED and was_running)


async def _cancel_item(services: RunServices, ctx: ItemContext) -> None:
    may_be_billed = False
    if ctx.item.fal_request_id and ctx.item.endpoint_id:
        may_be_billed = await _cancel_at_fal(services, ctx, ctx.item.endpoint_id, ctx.item.fal_request_id)
    note = (
        "cancelled; fal had already started this request and may bill it even though falflow does not charge you"
        if may_be_billed else "cancelled before fal started it; nothing is billed"
    )
    await asyncio.to_thread(
        _record, services, ctx,
        [EventDraft("item.status", data={"status": "cancelled", "may_be_billed": may_be_billed, "note": note})],
        status=NodeStatus.CANCELLED.value, may_be_billed=may_be_billed, finished_at=utcnow(), queue_position=None,
        error=note,
    )
