"""The editor's document state: load, apply the canvas's changes, autosave with the version guard.

The authoritative document lives in the backend-only `_document`; the browser only receives
a document in `graph` when `graph_version` is bumped (load, reload, a rejected change).
Every accepted change is saved at once as a new version based on `_base_version`. When
another tab or an API client saved first, the save fails with 409, nothing is overwritten,
and the change stays in `_document` until the user reloads or overwrites.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from falflow.context import get_context
from falflow.graph.document import WorkflowDocument
from falflow.kit.errors import ConflictError, FalflowError
from falflow.ui.editor.changes import apply_change, parse_change
from falflow.ui.editor.checks import check_document
from falflow.ui.session import SessionState
from falflow.workflows import service
from falflow.workflows.endpoints import get_catalog

logger = logging.getLogger("falflow.ui.editor")

_WORKFLOW_PATH = re.compile(r"/workflows/(?P<id>[0-9a-fA-F-]{36})/?$")
MAX_NAME_LENGTH = 200


def route_workflow_id(path: str) -> uuid.UUID | None:
    """Return the workflow id of an editor URL path such as `/workflows/<uuid>/`."""
    match = _WORKFLOW_PATH.search(path)
    if match is None:
        return None
    try:
        return uuid.UUID(match.group("id"))
    except ValueError:
        return None


def _read_workflow(owner_id: uuid.UUID, workflow_id: uuid.UUID) -> tuple[str, int, dict[str, Any]]:
    with get_context().database.read_session() as session:
        workflow = service.get_workflow(session, owner_id, workflow_id)
        return workflow.name, workflow.version, dict(workflow.document)


def _save(
    owner_id: uuid.UUID, workflow_id: uuid.UUID, *, base_version: int,
    document: WorkflowDocument | None, name: str | None, note: str,
) -> tuple[str, int]:
    with get_context().database.write_session() as session:
        workflow = service.save_workflow(
            session, owner_id, workflow_id, base_version=base_version, document=document, name=name, note=note,
        )
        return workflow.name, workflow.version


class EditorState(rx.State):
    """The open workflow of one tab: its document, save status, problems and estimate."""

    loaded_workflow_id: str = ""
    name: str = ""
    renaming: bool = False
    rename_value: str = ""
    version: int = 0
    # loading | saved | saving | conflict | error | missing
    save_state: str = "loading"
    conflict_version: int = 0
    load_error: str = ""
    graph: dict[str, Any] = {}
    graph_version: int = 0
    problems: list[dict[str, Any]] = []
    node_checks: dict[str, dict[str, Any]] = {}
    node_count: int = 0
    estimate_credits: int = 0
    estimate_is_guess: bool = False
    focus_request: dict[str, Any] = {}

    _document: dict[str, Any] = {}
    _base_version: int = 0

    async def _owner_id(self) -> uuid.UUID:
        return (await self.get_state(SessionState)).user_id()

    def _workflow_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.loaded_workflow_id)

    def current_document(self) -> WorkflowDocument:
        """Return the editor's document, saved or not."""
        return service.parse_document(dict(self.get_value("_document")))

    def _show(self, document: WorkflowDocument, *, replace_canvas: bool) -> None:
        self._document = document.model_dump(mode="json")
        checks = check_document(document, get_catalog(), margin_bps=get_context().settings.price_margin_bps)
        self.problems = checks.problems
        self.node_checks = checks.node_checks
        self.node_count = len(document.nodes)
        self.estimate_credits = checks.total_credits
        self.estimate_is_guess = checks.estimated
        if replace_canvas:
            self.graph = self._document
            self.graph_version += 1

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        """Open the workflow named in the URL (an on_load handler, also run when the websocket reconnects)."""
        workflow_id = route_workflow_id(self.router.url.path)
        if workflow_id is not None and self.loaded_workflow_id == str(workflow_id) and self.save_state == "conflict":
            # A reconnect must not drop the change that waits for the user's choice.
            self._show(self.current_document(), replace_canvas=True)
            return
        async for update in self._open():
            yield update

    async def _open(self) -> AsyncIterator[Any]:
        self.save_state = "loading"
        self.load_error = ""
        self.renaming = False
        workflow_id = route_workflow_id(self.router.url.path)
        try:
            owner_id = await self._owner_id()
        except PermissionError:
            return
        if workflow_id is None:
            self._missing(f"'{self.router.url.path}' is not a workflow address; open a workflow from the list.")
            return
        try:
            name, version, raw = await asyncio.to_thread(_read_workflow, owner_id, workflow_id)
            document = service.parse_document(raw)
        except FalflowError as exc:
            logger.info("editor.workflow.not_opened", extra={"workflow_id": str(workflow_id), "error": exc.detail})
            self._missing(exc.detail)
            return
        self.loaded_workflow_id = str(workflow_id)
        self.name = name
        self.version = version
        self._base_version = version
        self.save_state = "saved"
        self._show(document, replace_canvas=True)
        logger.info("editor.workflow.opened", extra={"workflow_id": str(workflow_id), "version": version})
        yield

    def _missing(self, detail: str) -> None:
        self.loaded_workflow_id = ""
        self.save_state = "missing"
        self.load_error = detail
        self._document = {}
        self._show(WorkflowDocument(), replace_canvas=True)

    @rx.event
    async def apply_graph_change(self, raw: dict[str, Any]) -> AsyncIterator[Any]:
        """Apply one change from the canvas, then save it; a rejected change restores the canvas."""
        if not self.loaded_workflow_id:
            return
        try:
            change = parse_change(raw)
            applied = apply_change(self.current_document(), change, get_catalog())
        except FalflowError as exc:
            logger.info("editor.change.rejected", extra={"workflow_id": self.loaded_workflow_id, "error": exc.detail})
            self._show(self.current_document(), replace_canvas=True)
            yield rx.toast.error(exc.detail)
            return
        missed_replacement = change.graph_version is not None and change.graph_version != self.graph_version
        self._show(applied.document, replace_canvas=change.kind == "replace" or missed_replacement)
        async for update in self._save_document(applied.note):
            yield update

    async def _save_document(self, note: str, *, name: str | None = None) -> AsyncIterator[Any]:
        if self.save_state == "conflict":
            return  # The change stays in `_document` until the user reloads or overwrites.
        self.save_state = "saving"
        yield
        try:
            self.name, self.version = await asyncio.to_thread(
                _save, await self._owner_id(), self._workflow_uuid(),
                base_version=self._base_version, document=self.current_document(), name=name, note=note,
            )
        except ConflictError as exc:
            self.save_state = "conflict"
            self.conflict_version = int(exc.extra.get("current_version", 0))
            logger.info("editor.save.conflict", extra={"workflow_id": self.loaded_workflow_id,
                                                       "base_version": self._base_version, "current_version": self.conflict_version})
            return
        except FalflowError as exc:
            self.save_state = "error"
            logger.warning("editor.save.failed", extra={"workflow_id": self.loaded_workflow_id, "error": exc.detail})
            yield rx.toast.error(exc.detail)
            return
        self._base_version = self.version
        self.save_state = "saved"

    @rx.event
    async def reload_latest(self) -> AsyncIterator[Any]:
        """Drop the unsaved change and show the version that is saved now."""
        async for update in self._open():
            yield update

    @rx.event
    async def overwrite(self) -> AsyncIterator[Any]:
        """Save the editor's document as a new version on top of the one saved elsewhere."""
        if self.save_state != "conflict":
            return
        self._base_version = self.conflict_version
        self.save_state = "saved"
        async for update in self._save_document(f"overwrote version {self.conflict_version} from a stale editor"):
            yield update
        if self.save_state == "saved":
            yield rx.toast.success(f"Saved your version as v{self.version}.")

    @rx.event
    def start_rename(self) -> None:
        self.rename_value = self.name
        self.renaming = True

    @rx.event
    def set_rename_value(self, value: str) -> None:
        self.rename_value = value

    @rx.event
    def cancel_rename(self) -> None:
        self.renaming = False

    @rx.event
    async def finish_rename(self) -> AsyncIterator[Any]:
        if not self.renaming:
            return
        self.renaming = False
        name = self.rename_value.strip()
        if not name or name == self.name:
            return
        if len(name) > MAX_NAME_LENGTH:
            yield rx.toast.error(f"A workflow name has at most {MAX_NAME_LENGTH} characters; this one has {len(name)}.")
            return
        if self.save_state == "conflict":
            yield rx.toast.error("Resolve the version conflict first (Reload or Overwrite), then rename.")
            return
        async for update in self._save_document("renamed", name=name):
            yield update

    @rx.event
    def rename_key(self, key: str) -> Any:
        if key == "Enter":
            return EditorState.finish_rename
        if key == "Escape":
            self.renaming = False
        return None

    @rx.event
    def focus_node(self, node_id: str) -> None:
        self.focus_request = {"node_id": node_id, "nonce": int(self.focus_request.get("nonce", 0)) + 1}

    def run_block_reason_now(self) -> str:
        """Return why the workflow cannot run now, or "" when it can."""
        if self.save_state == "conflict":
            return "Resolve the version conflict first."
        if self.save_state in ("loading", "missing"):
            return "The workflow is not loaded."
        if self.save_state == "error":
            return "The last change was not saved; make another change or reload."
        if self.node_count == 0:
            return "Add nodes from the palette first."
        if self.problems:
            count = len(self.problems)
            return f"Fix {count} problem{'s' if count != 1 else ''} first."
        return ""

    @rx.var
    def run_block_reason(self) -> str:
        return self.run_block_reason_now()

    @rx.var
    def save_label(self) -> str:
        labels = {
            "saved": f"Saved · v{self.version}",
            "saving": "Saving…",
            "conflict": f"Not saved: v{self.conflict_version} exists",
            "error": "Not saved",
            "loading": "Loading…",
            "missing": "Not found",
        }
        return labels.get(self.save_state, self.save_state)

    @rx.var
    def estimate_label(self) -> str:
        prefix = "≈ " if self.estimate_is_guess else ""
        return f"{prefix}{self.estimate_credits:,} credits (${self.estimate_credits / 1000:,.3f})"

    @rx.var
    def problem_count(self) -> int:
        return len(self.problems)

    @rx.var
    def export_slug(self) -> str:
        slug = "".join(ch if ch.isalnum() else "-" for ch in self.name.lower()).strip("-")
        return slug or "workflow"
