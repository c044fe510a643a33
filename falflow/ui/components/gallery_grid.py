"""The Python side of `assets/gallery/GalleryGrid.jsx`, the virtualised, infinitely scrolling grid."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.event import passthrough_event_spec


class GalleryGrid(rx.Component):
    """A grid that fetches `/api/assets` pages itself. The JSX file documents the contract of each prop."""

    library = "$/public/gallery/GalleryGrid.jsx"
    tag = "GalleryGrid"
    is_default = True

    # Origin that `/api` paths are appended to (empty in prod, where it is the page's own).
    api_base: rx.Var[str]
    # Filter query string without `cursor` and `limit`, e.g. `kind=image&favourite=true`.
    query: rx.Var[str]
    page_size: rx.Var[int]
    # Bumping it refetches from the first page with the same filters.
    reload_key: rx.Var[int]
    # Asset id -> {"favourite": bool, "deleted": bool}: edits made since the pages loaded.
    patches: rx.Var[dict[str, dict[str, bool]]]
    selected_id: rx.Var[str]
    # CSS height of the scrolling box.
    grid_height: rx.Var[str]

    on_open: rx.EventHandler[passthrough_event_spec(str)]
    on_status: rx.EventHandler[passthrough_event_spec(dict[str, Any])]


gallery_grid = GalleryGrid.create
