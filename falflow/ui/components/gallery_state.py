"""State of the Assets page: filters, the grid's progress, and the lightbox with its actions.

The asset list itself stays in the browser (`GalleryGrid` fetches its pages), so this state
holds only the filters, what the grid reports, and the one asset open in the lightbox.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import reflex as rx

from falflow.assets import service as assets
from falflow.context import get_context
from falflow.kit.errors import FalflowError
from falflow.ui.components.asset_rows import EMPTY_DETAIL, asset_detail
from falflow.ui.components.feedback import rejection_toast
from falflow.ui.components.gallery_filters import ANY, FilterError, GalleryFilters
from falflow.ui.components.seed_reuse import reuse_seed
from falflow.ui.session import SessionState
from falflow.workflows import service as workflows
from falflow.workflows.endpoints import get_catalog

KIND_OPTIONS = [[ANY, "All kinds"], ["image", "Images"], ["video", "Videos"], ["audio", "Audio"], ["text", "Text"],
                ["json", "JSON"]]


def _read_detail(owner_id: uuid.UUID, asset_id: uuid.UUID) -> dict[str, Any]:
    with get_context().database.read_session() as session:
        return asset_detail(assets.asset_lineage(session, owner_id, asset_id), get_catalog())


def _read_workflow_options(owner_id: uuid.UUID) -> list[list[str]]:
    with get_context().database.read_session() as session:
        return [[str(w.id), w.name] for w in workflows.list_workflows(session, owner_id)]


def _write_favourite(owner_id: uuid.UUID, asset_id: uuid.UUID, favourite: bool) -> None:
    with get_context().database.write_session() as session:
        assets.set_favourite(session, owner_id, asset_id, favourite)


def _write_delete(owner_id: uuid.UUID, asset_id: uuid.UUID) -> None:
    with get_context().database.write_session() as session:
        assets.delete_asset(session, owner_id, asset_id)


class GalleryState(rx.State):
    kind: str = ANY
    favourites_only: bool = False
    text: str = ""
    # Named apart from the editor's `workflow_id` route argument, which Reflex adds to every state.
    filter_workflow: str = ANY
    date_from: str = ""
    date_to: str = ""
    workflow_options: list[list[str]] = []

    query: str = ""
    filter_error: str = ""
    reload_key: int = 0
    patches: dict[str, dict[str, bool]] = {}

    loaded: int = 0
    done: bool = False
    loading: bool = True
    grid_error: str = ""

    selected: dict[str, Any] = EMPTY_DETAIL
    lightbox_open: bool = False

    async def _owner(self) -> uuid.UUID | None:
        try:
            return (await self.get_state(SessionState)).user_id()
        except PermissionError:
            return None

    @rx.var
    def filters_active(self) -> bool:
        return not self._filters().is_default()

    @rx.var
    def workflow_choices(self) -> list[list[str]]:
        return [[ANY, "All workflows"], *self.workflow_options]

    @rx.var
    def is_empty(self) -> bool:
        return self.done and self.loaded == 0 and not self.grid_error

    def _filters(self) -> GalleryFilters:
        return GalleryFilters(
            kind=self.kind, favourites_only=self.favourites_only, text=self.text, workflow_id=self.filter_workflow,
            date_from=self.date_from, date_to=self.date_to,
        )

    def _apply_filters(self) -> None:
        try:
            self.query = self._filters().to_query()
        except FilterError as exc:
            self.filter_error = str(exc)
            return
        self.filter_error = ""

    @rx.event
    async def load(self) -> Any:
        """Reset the grid for a fresh visit and open `?open=<asset id>` when given."""
        owner = await self._owner()
        if owner is None:
            return None
        self.workflow_options = await asyncio.to_thread(_read_workflow_options, owner)
        # The grid mounts afresh with the page and fetches its first page itself.
        self.patches = {}
        self.lightbox_open = False
        self._apply_filters()
        requested = self.router.url.query_parameters.get("open", "")
        if requested:
            return GalleryState.open_asset(requested)
        return None

    @rx.event
    def set_kind(self, value: str) -> None:
        self.kind = value
        self._apply_filters()

    @rx.event
    def set_favourites_only(self, value: bool) -> None:
        self.favourites_only = value
        self._apply_filters()

    @rx.event
    def set_text(self, value: str) -> None:
        self.text = value
        self._apply_filters()

    @rx.event
    def set_filter_workflow(self, value: str) -> None:
        self.filter_workflow = value
        self._apply_filters()

    @rx.event
    def set_date_from(self, value: str) -> None:
        self.date_from = value
        self._apply_filters()

    @rx.event
    def set_date_to(self, value: str) -> None:
        self.date_to = value
        self._apply_filters()

    @rx.event
    def clear_filters(self) -> None:
        defaults = GalleryFilters()
        self.kind, self.favourites_only, self.text = defaults.kind, defaults.favourites_only, defaults.text
        self.filter_workflow, self.date_from, self.date_to = defaults.workflow_id, defaults.date_from, defaults.date_to
        self._apply_filters()

    @rx.event
    def grid_status(self, status: dict[str, Any]) -> None:
        self.loaded = int(status.get("loaded") or 0)
        self.done = bool(status.get("done"))
        self.loading = bool(status.get("loading"))
        self.grid_error = str(status.get("error") or "")

    @rx.event
    def reload(self) -> None:
        self.patches = {}
        self.reload_key += 1

    @rx.event
    async def open_asset(self, asset_id: str) -> Any:
        owner = await self._owner()
        if owner is None:
            return None
        try:
            self.selected = await asyncio.to_thread(_read_detail, owner, uuid.UUID(asset_id))
        except ValueError:
            return rx.toast.error(f"'{asset_id}' is not an asset id; open the asset from the gallery.")
        except FalflowError as exc:
            return rejection_toast("ui.asset.open_rejected", exc, asset_id=asset_id, user_id=owner)
        self.lightbox_open = True
        return None

    @rx.event
    def set_lightbox_open(self, value: bool) -> None:
        self.lightbox_open = value

    @rx.event
    async def toggle_favourite(self) -> Any:
        owner = await self._owner()
        if owner is None or not self.selected.get("id"):
            return None
        asset_id = str(self.selected["id"])
        favourite = not bool(self.selected.get("favourite"))
        try:
            await asyncio.to_thread(_write_favourite, owner, uuid.UUID(asset_id), favourite)
        except FalflowError as exc:
            return rejection_toast("ui.asset.favourite_rejected", exc, asset_id=asset_id, user_id=owner)
        self.selected = {**self.selected, "favourite": favourite}
        self.patches = {**self.patches, asset_id: {**self.patches.get(asset_id, {}), "favourite": favourite}}
        return None

    @rx.event
    async def delete_selected(self) -> Any:
        owner = await self._owner()
        if owner is None or not self.selected.get("id"):
            return None
        asset_id = str(self.selected["id"])
        try:
            await asyncio.to_thread(_write_delete, owner, uuid.UUID(asset_id))
        except FalflowError as exc:
            return rejection_toast("ui.asset.delete_rejected", exc, asset_id=asset_id, user_id=owner)
        self.patches = {**self.patches, asset_id: {"deleted": True}}
        self.lightbox_open = False
        self.selected = dict(EMPTY_DETAIL)
        return rx.toast.success("Asset deleted")

    @rx.event
    async def reuse_selected_seed(self) -> Any:
        owner = await self._owner()
        if owner is None or not self.selected.get("id"):
            return None
        workflow_id, node_id, seed = self.selected.get("workflow_id"), self.selected.get("node_id"), self.selected.get("seed")
        if not (workflow_id and node_id and seed):
            return rx.toast.error("This asset has no seed and node to reuse; only generated outputs with a seed have one.")
        try:
            change = await asyncio.to_thread(reuse_seed, owner, uuid.UUID(str(workflow_id)), str(node_id), int(seed))
        except FalflowError as exc:
            return rejection_toast("ui.asset.reuse_seed_rejected", exc, workflow_id=workflow_id, node_id=node_id,
                                   user_id=owner)
        message = f"Seed {seed} set on node '{node_id}' (version {change.version})."
        if change.removed_edges:
            message += " The wire into its seed input was removed, because a wired seed would override it."
        self.lightbox_open = False
        return [rx.toast.success(message), rx.redirect(f"/workflows/{change.workflow_id}")]
