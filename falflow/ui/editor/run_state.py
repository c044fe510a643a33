"""Runs in the editor: start and cancel, and one background task per tab that follows runs live.

The task reads the run's event log from its last sequence number whenever the event bus
reports news (or every `POLL_SECONDS`, because another process may write the log), and
folds the events into small per-node summaries. With no run to follow it looks for a new
unfinished run of the workflow every `WATCH_SECONDS`, so every open tab of the user shows
a run started anywhere. A newer task of the same tab (after a reload or a new run) bumps
`_generation`, and the older task stops at its next step. A task also stops when its tab has
left the workflow's page or has been disconnected for `DISCONNECT_GRACE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from falflow.context import get_context
from falflow.kit.errors import FalflowError, NotFoundError, PaymentRequiredError
from falflow.runs import service as runs
from falflow.runs.engine import get_engine
from falflow.runs.events import event_bus, wait_for_news
from falflow.runs.states import RUN_TERMINAL, RunStatus
from falflow.ui.editor.run_feed import RunHeader, find_latest_run, find_unfinished_run, parse_run_id, read_events, read_header
from falflow.ui.editor.run_summary import RunSummary, apply_events, seed_from_detail
from falflow.ui.editor.state import EditorState, route_workflow_id
from falflow.ui.editor.tab_presence import is_tab_connected
from falflow.ui.session import SessionState
from falflow.workflows.endpoints import get_catalog

logger = logging.getLogger("falflow.ui.editor")

POLL_SECONDS = 1.0
WATCH_SECONDS = 2.0
DISCONNECT_GRACE_SECONDS = 60.0
ACTIVE_STATUSES = ("queued", "running", "cancelling")


def _create_run(owner_id: uuid.UUID, workflow_id: uuid.UUID, options: runs.RunOptions) -> tuple[uuid.UUID, int]:
    context = get_context()
    with context.database.write_session() as session:
        run = runs.start_run(
            session, owner_id=owner_id, workflow_id=workflow_id, options=options, catalog=get_catalog(),
            margin_bps=context.settings.price_margin_bps, mode=context.settings.mode.value,
        )
        return run.id, run.estimated_credits


def _request_cancel(owner_id: uuid.UUID, run_id: uuid.UUID) -> str:
    with get_context().database.write_session() as session:
        return runs.request_cancel(session, owner_id, run_id).status


def _public_nodes(nodes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    # Per-item details stay on the server; the canvas needs only the node-level summary.
    return {node_id: {key: value for key, value in entry.items() if key != "items"} for node_id, entry in nodes.items()}


class EditorRunState(rx.State):
    """The run one tab shows (started here, in another tab or through the API) and its node summaries."""

    run_id: str = ""
    run_status: str = ""
    run_estimated: int = 0
    run_charged: int = 0
    run_error: str = ""
    node_status: dict[str, dict[str, Any]] = {}
    starting: bool = False
    payment_open: bool = False
    payment_required: int = 0
    payment_available: int = 0
    payment_balance: int = 0

    _nodes: dict[str, dict[str, Any]] = {}
    _node_types: dict[str, str] = {}
    _last_seq: int = 0
    # The run the tab's task should follow next ("" = watch for new runs).
    _follow: str = ""
    _generation: int = 0

    async def _owner_id(self) -> uuid.UUID:
        return (await self.get_state(SessionState)).user_id()

    @rx.event
    def attach(self) -> Any:
        """Follow the run named by `?run=`, else the workflow's newest unfinished run (an on_load handler)."""
        self.run_id = ""
        self.run_status = ""
        self.node_status = {}
        self._nodes = {}
        self._last_seq = 0
        self.payment_open = False
        requested = parse_run_id(self.router.url.query_parameters.get("run", ""))
        self._follow = str(requested) if requested else ""
        return EditorRunState.follow_runs

    @rx.event
    async def start(self, options: dict[str, Any]) -> AsyncIterator[Any]:
        """Start a run of the saved workflow: the whole graph, `only_up_to` or `start_from` a node."""
        if self.run_status in ACTIVE_STATUSES:
            yield rx.toast.info("A run of this workflow is in progress; cancel it or wait for it to finish.")
            return
        editor = await self.get_state(EditorState)
        reason = editor.run_block_reason_now()
        if reason:
            yield rx.toast.error(f"The workflow cannot run yet: {reason}")
            return

        node_ids = {node["id"] for node in editor.get_value("_document").get("nodes", [])}
        run_options = runs.RunOptions(
            base_version=editor.version,
            only_up_to=_node_option(options.get("only_up_to"), node_ids),
            start_from=_node_option(options.get("start_from"), node_ids),
            force=bool(options.get("force")),
        )
        owner_id = await self._owner_id()
        self.starting = True
        yield

        try:
            run_id, estimated = await asyncio.to_thread(_create_run, owner_id, uuid.UUID(editor.loaded_workflow_id), run_options)
        except PaymentRequiredError as exc:
            logger.info("editor.run.rejected", extra={"workflow_id": editor.loaded_workflow_id, "error": exc.detail})
            self.payment_required = int(exc.extra.get("required", 0))
            self.payment_available = int(exc.extra.get("available", 0))
            self.payment_balance = int(exc.extra.get("balance", self.payment_available))
            self.payment_open = True
            return
        except FalflowError as exc:
            logger.info("editor.run.rejected", extra={"workflow_id": editor.loaded_workflow_id, "error": exc.detail})
            yield rx.toast.error(exc.detail)
            return
        finally:
            self.starting = False

        # The run and its credit hold are committed; only now may the engine pick it up.
        await get_engine().start(run_id)
        logger.info("editor.run.started", extra={"run_id": str(run_id), "workflow_id": editor.loaded_workflow_id})
        self.run_id = ""
        self.run_status = "queued"
        self.run_estimated = estimated
        self.node_status = {}
        self._follow = str(run_id)
        yield EditorRunState.follow_runs
        yield SessionState.refresh_balance

    @rx.event
    async def cancel(self) -> Any:
        if not self.run_id or self.run_status not in ACTIVE_STATUSES:
            return None
        run_id = uuid.UUID(self.run_id)
        try:
            status = await asyncio.to_thread(_request_cancel, await self._owner_id(), run_id)
        except FalflowError as exc:
            logger.warning("editor.run.cancel_failed", extra={"run_id": self.run_id, "error": exc.detail})
            return rx.toast.error(exc.detail)
        if RunStatus(status) not in RUN_TERMINAL:
            await get_engine().cancel(run_id)
        self.run_status = status
        return rx.toast.info("Cancelling: queued requests are withdrawn; finished nodes stay charged.")

    @rx.event
    def close_payment(self) -> None:
        self.payment_open = False

    @rx.event
    def set_payment_open(self, is_open: bool) -> None:
        self.payment_open = is_open

    @rx.event(background=True)
    async def follow_runs(self) -> AsyncIterator[Any]:
        """Follow this tab's runs until a newer task replaces this one or the tab goes away."""
        async with self:
            self._generation += 1
            generation = self._generation
            token = self.router.session.client_token
            workflow_id = route_workflow_id(self.router.url.path)
            try:
                owner_id = await self._owner_id()
            except PermissionError:
                return
        if workflow_id is None:
            return
        # A page that (re)connects shows the newest run first, even one that finished while the
        # page was away (a reload, a restarted web process); after that it waits for new runs.
        async with self:
            show_latest = self._generation == generation and not self._follow
        if show_latest:
            latest = await asyncio.to_thread(find_latest_run, owner_id, workflow_id)
            async with self:
                if latest is not None and self._generation == generation and not self._follow:
                    self._follow = str(latest)
        presence = _Presence(token)
        reason = "tab disconnected"
        while await presence.still_there():
            async with self:
                if self._generation != generation:
                    reason = "replaced by a newer task"
                    break
                if route_workflow_id(self.router.url.path) != workflow_id:
                    reason = "tab left the workflow"
                    break
                target = self._follow
            if not target:
                found = await asyncio.to_thread(find_unfinished_run, owner_id, workflow_id)
                if found is None:
                    await asyncio.sleep(WATCH_SECONDS)
                    continue
                async with self:
                    if self._generation == generation:
                        self._follow = str(found)
                continue
            outcome = await self._follow_one(generation, owner_id, workflow_id, uuid.UUID(target), presence)
            if outcome == "superseded":
                reason = "replaced by a newer task"
                break
            if outcome == "finished":
                yield SessionState.refresh_balance
        logger.info("editor.follow.stopped", extra={"reason": reason, "workflow_id": str(workflow_id)})

    async def _follow_one(
        self, generation: int, owner_id: uuid.UUID, workflow_id: uuid.UUID, run_id: uuid.UUID, presence: _Presence,
    ) -> str:
        """Show one run of the workflow until it finishes; return "finished", "superseded", "gone" or "missing"."""
        try:
            header = await asyncio.to_thread(read_header, owner_id, run_id)
            if header.workflow_id != workflow_id:
                raise NotFoundError(f"Run '{run_id}' belongs to another workflow.")
        except NotFoundError:
            logger.info("editor.run.not_found", extra={"run_id": str(run_id), "workflow_id": str(workflow_id)})
            async with self:
                if self._generation == generation:
                    self._follow = ""
            return "missing"
        async with self:
            if self._generation != generation:
                return "superseded"
            if self.run_id != str(run_id):
                self._reset_to(header)
                logger.info("editor.run.attached", extra={"run_id": str(run_id), "status": header.status})
            after = self._last_seq
        with event_bus.listen(run_id) as news:
            while True:
                news.clear()
                events, status = await asyncio.to_thread(read_events, owner_id, run_id, after)
                if events:
                    async with self:
                        if self._generation != generation:
                            return "superseded"
                        after = self._fold(events)
                    continue
                if RunStatus(status) in RUN_TERMINAL:
                    async with self:
                        if self._generation != generation:
                            return "superseded"
                        self.run_status = status
                        self._follow = ""
                    return "finished"
                if not await wait_for_news(news, POLL_SECONDS) and not await presence.still_there():
                    return "gone"

    def _reset_to(self, header: RunHeader) -> None:
        summary = RunSummary(run_id=str(header.run_id), status=header.status, estimated_credits=header.estimated_credits)
        seed_from_detail(summary, header.detail_nodes, header.node_types)
        self.run_id = summary.run_id
        self.run_status = summary.status
        self.run_estimated = summary.estimated_credits
        self.run_charged = 0
        self.run_error = ""
        self._node_types = header.node_types
        self._nodes = summary.nodes
        self._last_seq = 0
        self.node_status = _public_nodes(summary.nodes)

    def _fold(self, events: list[dict[str, Any]]) -> int:
        summary = RunSummary(
            run_id=self.run_id, status=self.run_status, estimated_credits=self.run_estimated,
            charged_credits=self.run_charged, error=self.run_error, last_seq=self._last_seq,
            nodes=copy.deepcopy(self.get_value("_nodes")),
        )
        apply_events(summary, events, self.get_value("_node_types"))
        self.run_status = summary.status
        self.run_estimated = summary.estimated_credits
        self.run_charged = summary.charged_credits
        self.run_error = summary.error
        self._last_seq = summary.last_seq
        self._nodes = summary.nodes
        self.node_status = _public_nodes(summary.nodes)
        return summary.last_seq

    @rx.var
    def run_active(self) -> bool:
        return self.run_status in ACTIVE_STATUSES

    @rx.var
    def payment_message(self) -> str:
        return (
            f"This run needs {self.payment_required:,} credits, but only {self.payment_available:,} are available. "
            "Nothing was charged."
        )

    @rx.var
    def payment_advice(self) -> str:
        if self.payment_balance < 0:
            return (
                f"Your balance is {self.payment_balance:,} credits after a refund or dispute took back credits "
                "you had already spent. Buy credits to bring it above zero."
            )
        return "Buy credits, or make the workflow cheaper: reduce durations, counts or sizes."

    @rx.var
    def run_outputs(self) -> list[dict[str, str]]:
        """List the media outputs of the shown run, grouped by node, each asset once.

        An Output node passes its input through, so its asset is already listed under the node that made it.
        """
        outputs: list[dict[str, str]] = []
        seen: set[str] = set()
        for node_id, entry in self.node_status.items():
            for preview in entry.get("previews", []):
                asset_id = str(preview["asset_id"])
                if asset_id in seen:
                    continue
                seen.add(asset_id)
                outputs.append({"asset_id": asset_id, "kind": str(preview.get("kind", "")), "node_id": node_id})
        return outputs

    @rx.var
    def run_charged_label(self) -> str:
        return f"{self.run_charged:,} credits (${self.run_charged / 1000:,.3f})"


class _Presence:
    """Tracks whether the tab is connected, allowing a reconnect within the grace period."""

    def __init__(self, client_token: str) -> None:
        self._token = client_token
        self._gone_since: float | None = None

    async def still_there(self) -> bool:
        if await is_tab_connected(self._token):
            self._gone_since = None
            return True
        now = time.monotonic()
        if self._gone_since is None:
            self._gone_since = now
        return now - self._gone_since < DISCONNECT_GRACE_SECONDS


def _node_option(value: object, node_ids: set[str]) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value if value in node_ids else None
