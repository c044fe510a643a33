"""Asset previews: lazy thumbnails for lists and full players for the lightbox.

Both take an asset dict with at least `id`, `kind` and `has_thumbnail` (see `asset_rows`).
Media bytes never pass through Reflex state: the browser loads them from `/api/assets/...`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.ui.components.api_urls import asset_file_url, asset_thumbnail_url

# Lucide icon per asset kind, for assets without a thumbnail.
KIND_ICONS: dict[str, str] = {"image": "image", "video": "film", "audio": "audio-lines", "text": "file-text", "json": "braces"}


def kind_icon(kind: rx.Var[str], size: int = 28) -> rx.Component:
    return rx.match(
        kind,
        *[(name, rx.icon(icon, size=size)) for name, icon in KIND_ICONS.items()],
        rx.icon("file", size=size),
    )


def asset_thumbnail(asset: rx.Var[dict[str, Any]], size: str = "96px", **props: Any) -> rx.Component:
    """Build a square preview: the WebP thumbnail (loaded lazily) or the kind's icon."""
    return rx.box(
        rx.cond(
            asset["has_thumbnail"].to(bool),
            rx.image(
                src=asset_thumbnail_url(asset["id"].to(str)),
                loading="lazy",
                alt=asset["kind"].to(str),
                width="100%",
                height="100%",
                object_fit="cover",
            ),
            rx.center(kind_icon(asset["kind"].to(str)), width="100%", height="100%", color=rx.color("gray", 10)),
        ),
        width=size,
        height=size,
        flex_shrink="0",
        border_radius="6px",
        overflow="hidden",
        background=rx.color("gray", 3),
        **props,
    )


def media_player(asset: rx.Var[dict[str, Any]]) -> rx.Component:
    """Build the asset at full size: an image, a video or audio player, or a link for text and JSON."""
    src = asset_file_url(asset["id"].to(str))
    return rx.match(
        asset["kind"].to(str),
        (
            "image",
            rx.image(src=src, alt=asset["prompt"].to(str), max_width="100%", max_height="62vh", object_fit="contain",
                     id="lightbox-image"),
        ),
        ("video", rx.el.video(src=src, controls=True, style={"width": "100%", "maxHeight": "62vh"}, id="lightbox-video")),
        ("audio", rx.el.audio(src=src, controls=True, style={"width": "100%"}, id="lightbox-audio")),
        rx.center(
            rx.vstack(
                kind_icon(asset["kind"].to(str), size=48),
                rx.link("Open the file in a new tab", href=src, is_external=True),
                align="center",
            ),
            height="200px",
            width="100%",
        ),
    )
