"""State of the runs history (`/runs`): one page of runs, refreshed while any of them is active."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import reflex as rx

from falflow.ui.components import run_queries
from falflow.ui.session import SessionState

PAGE_SIZE = 25
REFRESH_SECONDS = 2.0
# The list stops refreshing itself after this long. The Refresh button or a reload resumes it.
MAX_WATCH_SECONDS = 900.0


class RunsListState(rx.State):
    rows: list[dict[str, Any]] = []
    offset: int = 0
    has_more: bool = False
    loading: bool = True
    _generation: int = 0

    @rx.var
    def page_label(self) -> str:
        if not self.rows:
            return ""
        return f"Runs {self.offset + 1}–{self.offset + len(self.rows)}"

    @rx.var
    def any_active(self) -> bool:
        return any(row.get("active") for row in self.rows)

    async def _owner(self) -> uuid.UUID | None:
        try:
            return (await self.get_state(SessionState)).user_id()
        except PermissionError:
            return None

    async def _read(self) -> Any:
        owner = await self._owner()
        if owner is None:
            return None
        self._generation += 1
        page = await asyncio.to_thread(run_queries.read_run_page, owner, offset=self.offset, limit=PAGE_SIZE)
        self.rows = page.rows
        self.has_more = page.has_more
        self.loading = False
        return RunsListState.watch if self.any_active else None

    @rx.event
    async def load(self) -> Any:
        self.offset = 0
        return await self._read()

    @rx.event
    async def refresh(self) -> Any:
        return await self._read()

    @rx.event
    async def older(self) -> Any:
        if not self.has_more:
            return None
        self.offset += PAGE_SIZE
        return await self._read()

    @rx.event
    async def newer(self) -> Any:
        self.offset = max(self.offset - PAGE_SIZE, 0)
        return await self._read()

    @rx.event(background=True)
    async def watch(self) -> Any:
        """Re-read the page every REFRESH_SECONDS until no run on it is active."""
        async with self:
            generation = self._generation
            owner = await self._owner()
            offset = self.offset
        if owner is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_WATCH_SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(REFRESH_SECONDS)
            page = await asyncio.to_thread(run_queries.read_run_page, owner, offset=offset, limit=PAGE_SIZE)
            async with self:
                # A newer read took over, or the tab moved to another page.
                if self._generation != generation or self.router.url.path.rstrip("/") != "/runs":
                    return
                self.rows = page.rows
                self.has_more = page.has_more
                if not self.any_active:
                    break
        yield SessionState.refresh_balance
