"""State of the run detail page (`/runs/[run_id]`): the run, live progress and its actions.

While a run is active, a background task follows it the way the API's SSE stream does. It
listens on `event_bus` for in-process news, and it re-reads the event log at least every
`FOLLOW_POLL_SECONDS` because a separate worker process may write the events. Every new
batch of events reloads the run's detail.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import reflex as rx

from falflow.kit.errors import FalflowError
from falflow.runs.engine import get_engine
from falflow.runs.events import event_bus, wait_for_news
from falflow.runs.states import RUN_TERMINAL, RunStatus
from falflow.ui.components import run_queries
from falflow.ui.components.feedback import log_rejection, rejection_toast
from falflow.ui.components.run_rows import event_line, run_id_from_path
from falflow.ui.session import SessionState

FOLLOW_POLL_SECONDS = 1.0
# A follower stops after this long even if the run is still active. Reloading the page resumes it.
MAX_FOLLOW_SECONDS = 3600.0
EVENTS_PER_READ = 500
# Lines kept in the activity feed.
MAX_FEED_LINES = 14


class RunDetailState(rx.State):
    run: dict[str, Any] = {}
    nodes: list[dict[str, Any]] = []
    progress: str = ""
    feed: list[str] = []
    load_error: str = ""
    loading: bool = True
    following: bool = False
    acting: bool = False
    _run_id: str = ""
    _last_seq: int = 0
    # Bumped by every page load, so a follower whose generation is stale stops.
    _generation: int = 0

    @rx.var
    def can_cancel(self) -> bool:
        return self.run.get("status") in (RunStatus.QUEUED.value, RunStatus.RUNNING.value)

    async def _owner(self) -> uuid.UUID | None:
        try:
            return (await self.get_state(SessionState)).user_id()
        except PermissionError:
            return None

    def _show(self, view: run_queries.RunView) -> None:
        self.run = view.run
        self.nodes = view.nodes
        self.progress = view.progress

    @rx.event
    async def load(self) -> Any:
        self._generation += 1
        self.loading = True
        self.load_error = ""
        self.feed = []
        self.following = False
        owner = await self._owner()
        if owner is None:
            return None

        run_id = run_id_from_path(self.router.url.path)
        if run_id is None:
            self.loading = False
            self.run, self.nodes = {}, []
            self.load_error = f"'{self.router.url.path}' names no run; open a run from the Runs page."
            return None
        try:
            view = await asyncio.to_thread(run_queries.read_run_view, owner, run_id)
            recent, _status = await asyncio.to_thread(
                run_queries.read_events, owner, run_id, max(view.last_event_seq - MAX_FEED_LINES, 0), MAX_FEED_LINES
            )
        except FalflowError as exc:
            log_rejection("ui.run.load_rejected", exc, run_id=run_id, user_id=owner)
            self.loading = False
            self.run, self.nodes = {}, []
            self.load_error = exc.detail
            return None

        self._run_id = str(run_id)
        self._last_seq = view.last_event_seq
        self.feed = [event_line(event) for event in recent]
        self._show(view)
        self.loading = False
        return RunDetailState.follow if view.active else None

    @rx.event(background=True)
    async def follow(self) -> Any:
        async with self:
            generation = self._generation
            owner = await self._owner()
            run_id = uuid.UUID(self._run_id) if self._run_id else None
            after = self._last_seq
            self.following = owner is not None and run_id is not None
        if owner is None or run_id is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_FOLLOW_SECONDS
        settled = False
        try:
            with event_bus.listen(run_id) as news:
                while loop.time() < deadline:
                    news.clear()
                    events, status = await asyncio.to_thread(run_queries.read_events, owner, run_id, after, EVENTS_PER_READ)
                    if events:
                        after = events[-1]["seq"]
                        view = await asyncio.to_thread(run_queries.read_run_view, owner, run_id)
                        async with self:
                            if self._generation != generation:
                                return
                            self._show(view)
                            self._last_seq = after
                            self.feed = (self.feed + [event_line(event) for event in events])[-MAX_FEED_LINES:]
                        continue
                    if RunStatus(status) in RUN_TERMINAL:
                        settled = True
                        break
                    async with self:
                        if self._generation != generation or run_id_from_path(self.router.url.path) != run_id:
                            return
                    await wait_for_news(news, FOLLOW_POLL_SECONDS)
        except FalflowError as exc:
            log_rejection("ui.run.follow_failed", exc, run_id=run_id, user_id=owner)
        finally:
            async with self:
                if self._generation == generation:
                    self.following = False
        if settled:
            # Settling a run charges or releases its hold, so the nav bar's balance moved.
            yield SessionState.refresh_balance

    @rx.event
    async def rerun(self) -> Any:
        owner = await self._owner()
        if owner is None or not self._run_id:
            return None
        self.acting = True
        try:
            run = await asyncio.to_thread(run_queries.start_rerun, owner, uuid.UUID(self._run_id))
        except FalflowError as exc:
            self.acting = False
            return rejection_toast("ui.run.rerun_rejected", exc, run_id=self._run_id, user_id=owner)
        await get_engine().start(run.id)
        self.acting = False
        return [SessionState.refresh_balance, rx.redirect(f"/runs/{run.id}")]

    @rx.event
    async def rerun_with_changes(self) -> Any:
        owner = await self._owner()
        if owner is None or not self._run_id:
            return None
        self.acting = True
        try:
            workflow_id = await asyncio.to_thread(run_queries.save_run_document, owner, uuid.UUID(self._run_id))
        except FalflowError as exc:
            self.acting = False
            return rejection_toast("ui.run.rerun_with_changes_rejected", exc, run_id=self._run_id, user_id=owner)
        self.acting = False
        return [rx.toast.success("The run's graph is now the workflow's newest version."),
                rx.redirect(f"/workflows/{workflow_id}")]

    @rx.event
    async def cancel(self) -> Any:
        owner = await self._owner()
        if owner is None or not self._run_id:
            return None
        try:
            run = await asyncio.to_thread(run_queries.request_cancel, owner, uuid.UUID(self._run_id))
        except FalflowError as exc:
            return rejection_toast("ui.run.cancel_rejected", exc, run_id=self._run_id, user_id=owner)
        if RunStatus(run.status) not in RUN_TERMINAL:
            await get_engine().cancel(run.id)
        self.run = {**self.run, "status": run.status, "active": True}
        events: list[Any] = [rx.toast.info("Cancelling: queued requests stop now, and finished nodes stay charged.")]
        if not self.following:
            events.append(RunDetailState.follow)
        return events
