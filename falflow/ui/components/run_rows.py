"""Plain dicts for the Runs pages, built from runs, their detail and their assets.

Reflex state holds only JSON-friendly values, so every timestamp and amount is formatted
here, once, and the views just show the strings.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from falflow.assets.models import Asset
from falflow.runs.models import Run
from falflow.runs.states import RUN_TERMINAL, RunStatus
from falflow.ui.components.formatting import format_credits, format_duration, format_timestamp

# Maximum length of a parameter or text output shown inline, in characters. Longer ones end in "…".
MAX_INLINE_TEXT = 300
MAY_BE_BILLED_NOTE = (
    "Some cancelled requests had already started at fal, which may bill them; falflow did not charge you."
)
NOT_RUN = "not run"


def is_active(status: str) -> bool:
    """True while a run can still change (queued, running or cancelling)."""
    return RunStatus(status) not in RUN_TERMINAL


def run_row(run: Run, *, workflow_name: str, may_be_billed: bool, now: datetime | None = None) -> dict[str, Any]:
    """Build one line of the runs history."""
    return {
        "id": str(run.id),
        "workflow_id": str(run.workflow_id),
        "workflow_name": workflow_name,
        "workflow_version": run.workflow_version,
        "status": run.status,
        "active": is_active(run.status),
        "mode": run.mode,
        "created": format_timestamp(run.created_at),
        "started": format_timestamp(run.started_at),
        "finished": format_timestamp(run.finished_at),
        "duration": format_duration(run.started_at, run.finished_at, now=now),
        "estimated": format_credits(run.estimated_credits),
        "charged": format_credits(run.charged_credits),
        "may_be_billed": may_be_billed,
        "note": MAY_BE_BILLED_NOTE if may_be_billed else (run.note or ""),
        "error": run.error or "",
        "options": _options_text(run.options),
    }


def _options_text(options: Mapping[str, Any]) -> str:
    parts = []
    if options.get("only_up_to"):
        parts.append(f"only up to {options['only_up_to']}")
    if options.get("start_from"):
        parts.append(f"starting from {options['start_from']}")
    if options.get("force"):
        parts.append("cache bypassed")
    return ", ".join(parts)


def short_text(value: Any, limit: int = MAX_INLINE_TEXT) -> str:
    """Return `value` as one readable line of at most `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def asset_preview(asset: Asset) -> dict[str, Any]:
    """Return the fields a thumbnail or a player needs."""
    return {
        "id": str(asset.id),
        "kind": asset.kind,
        "has_thumbnail": asset.thumbnail_key is not None,
        "prompt": asset.prompt or "",
        "sandbox": asset.sandbox,
    }


def output_asset_ids(outputs: Any) -> list[str]:
    """Return the asset ids found anywhere in a node's outputs, in order, each once."""
    found: dict[str, None] = {}

    def visit(value: Any) -> None:
        if isinstance(value, Mapping):
            if value.get("asset_id"):
                found.setdefault(str(value["asset_id"]), None)
            for child in value.values():
                visit(child)
        elif isinstance(value, list):
            for child in value:
                visit(child)

    visit(outputs)
    return list(found)


def text_outputs(outputs: Mapping[str, Any] | None) -> list[str]:
    """Return the text and numbers a node produced (an LLM answer, seeds), each distinct line once."""
    lines: dict[str, None] = {}
    for port, value in (outputs or {}).items():
        values = value if isinstance(value, list) else [value]
        numbers = [str(entry) for entry in values if isinstance(entry, (int, float)) and not isinstance(entry, bool)]
        if numbers:
            lines.setdefault(f"{port}: {short_text(', '.join(numbers))}", None)
        for entry in values:
            if isinstance(entry, str) and not entry.startswith(("http://", "https://", "data:")):
                lines.setdefault(f"{port}: {short_text(entry)}", None)
    return list(lines)


def _item_row(item: Mapping[str, Any]) -> dict[str, Any]:
    progress = item.get("progress")
    return {
        "item_index": item["item_index"],
        "status": item["status"],
        "endpoint_id": item.get("endpoint_id") or "",
        "fal_request_id": item.get("fal_request_id") or "",
        "seed": "" if item.get("seed") is None else str(item["seed"]),
        "attempts": item.get("attempts") or 0,
        "cost": format_credits(int(item.get("cost_credits") or 0)),
        "progress": "" if progress is None else f"{float(progress) * 100:.0f}%",
        "queue_position": "" if item.get("queue_position") is None else str(item["queue_position"]),
        "error": item.get("error") or "",
        "error_code": item.get("error_code") or "",
        "may_be_billed": bool(item.get("may_be_billed")),
    }


def _batch_label(state: Mapping[str, Any] | None) -> str:
    """Return the batch size when a node fanned out to several requests, else ""."""
    count = state.get("batch_count") if state else None
    return str(count) if count and count > 1 else ""


def node_rows(
    document: Mapping[str, Any],
    detail_nodes: Iterable[Mapping[str, Any]],
    assets_by_id: Mapping[str, dict[str, Any]],
    type_titles: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Return every node of the run's document, in document order, with its run state.

    A node's `label` is its own label, else the catalog title of its type (`type_titles`
    maps node types to titles), else its id.

    `detail_nodes` is `falflow.runs.service.run_detail(...)["nodes"]`; a document node absent
    from it was left out of the run (say, by `only_up_to`) and shows as "not run".
    `assets_by_id` maps asset ids to `asset_preview` dicts; ids missing from it (deleted
    assets) are skipped.
    """
    by_node = {node["node_id"]: node for node in detail_nodes}
    titles = type_titles or {}
    labels = {
        node.get("id"): node.get("label") or titles.get(node.get("type", "")) or node.get("id")
        for node in document.get("nodes", [])
    }
    edges = document.get("edges", [])
    rows: list[dict[str, Any]] = []
    for node in document.get("nodes", []):
        node_id = node.get("id", "")
        state = by_node.get(node_id)
        outputs = state.get("outputs") if state else None
        rows.append({
            "node_id": node_id,
            "label": labels.get(node_id) or node_id,
            "type": node.get("type", ""),
            "status": state["status"] if state else NOT_RUN,
            "cost": format_credits(int(state.get("cost_credits") or 0)) if state else "",
            "batch_count": _batch_label(state),
            "error": (state.get("error") or "") if state else "",
            "reused_from_run_id": str(state["reused_from_run_id"]) if state and state.get("reused_from_run_id") else "",
            "inputs": [
                f"{edge.get('target_port')} ← {labels.get(edge.get('source')) or edge.get('source')}.{edge.get('source_port')}"
                for edge in edges
                if edge.get("target") == node_id
            ],
            "params": [f"{name} = {short_text(value, 120)}" for name, value in sorted((node.get("params") or {}).items())],
            "items": [_item_row(item) for item in (state.get("items") or [])] if state else [],
            "assets": [assets_by_id[asset_id] for asset_id in output_asset_ids(outputs) if asset_id in assets_by_id],
            "texts": text_outputs(outputs),
        })
    return rows


def node_progress(rows: Iterable[Mapping[str, Any]]) -> str:
    """Summarise node states as `3 of 4 nodes finished`."""
    counted = [row for row in rows if row["status"] != NOT_RUN]
    done = sum(1 for row in counted if row["status"] in {"succeeded", "reused", "failed", "blocked", "cancelled"})
    return f"{done} of {len(counted)} nodes finished"


def run_id_from_path(path: str) -> uuid.UUID | None:
    """Return the run id at the end of `/runs/<id>` (a trailing slash allowed), or None."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        return uuid.UUID(last)
    except ValueError:
        return None


def event_line(event: Mapping[str, Any]) -> str:
    """Describe one run event on one line, e.g. `20:31:02 · image #0 · progress 40%`."""
    data = event.get("data") or {}
    at = str(event.get("at", ""))
    clock = at[11:19] if len(at) >= 19 else at
    where = event.get("node_id") or "run"
    if event.get("item_index") is not None:
        where = f"{where} #{event['item_index']}"
    return f"{clock} · {where} · {_event_text(str(event.get('type', '')), data)}"


def _event_text(kind: str, data: Mapping[str, Any]) -> str:
    if data.get("message"):
        return f"log: {short_text(data['message'], 160)}"
    if data.get("progress") is not None:
        return f"progress {float(data['progress']) * 100:.0f}%"
    if data.get("queue_position") is not None:
        return f"queue position {data['queue_position']}"
    if kind == "item.retry":
        return f"retrying: {short_text(data.get('error', ''), 160)}"
    text = str(data.get("status") or kind)
    if data.get("cost_credits"):
        text += f", {format_credits(int(data['cost_credits']))}"
    if data.get("error"):
        text += f": {short_text(data['error'], 160)}"
    return text
