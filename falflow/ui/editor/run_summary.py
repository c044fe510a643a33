"""Small per-node summaries of a run, folded from its event log.

The page keeps only these summaries in Reflex state (status, progress, queue position,
the last log lines and asset ids), never media bytes: previews are URLs of
`/api/assets/{id}/thumbnail` and `/file` that the browser fetches itself.
Folding the same events in order always gives the same summaries, so a page that
replays the log from sequence 0 ends where a page that followed the run live ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_LOG_LINES = 5
MAX_LOG_LINE_CHARS = 300
MAX_PREVIEWS = 6
MAX_TEXT_CHARS = 600

RUN_TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
_NODE_TERMINAL_STATUSES = frozenset({"succeeded", "reused", "failed", "blocked", "cancelled"})
_ITEM_DONE_STATUSES = frozenset({"succeeded", "reused"})
# Node types whose text output only repeats what the user typed into the node.
_ECHO_NODE_TYPES = frozenset({"util/text", "util/number", "util/seed", "util/text-list"})
_MEDIA_KINDS = ("image", "video", "audio")


@dataclass
class RunSummary:
    """The run as the editor shows it; `nodes` maps node ids to plain JSON summaries."""

    run_id: str
    status: str = "queued"
    estimated_credits: int = 0
    charged_credits: int = 0
    error: str = ""
    last_seq: int = 0
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in RUN_TERMINAL_STATUSES


def new_node_summary(status: str = "pending") -> dict[str, Any]:
    return {
        "status": status, "progress": None, "queue_position": None, "batch_count": None,
        "items": {}, "items_done": 0, "logs": [], "previews": [], "texts": [],
        "error": "", "cost_credits": 0, "reused": status == "reused",
    }


def seed_from_detail(summary: RunSummary, detail_nodes: Iterable[Mapping[str, Any]], node_types: Mapping[str, str]) -> None:
    """Show nodes that a run took over from earlier runs; their reuse writes no events."""
    for node in detail_nodes:
        if node.get("status") != "reused":
            continue
        entry = new_node_summary("reused")
        entry["batch_count"] = node.get("batch_count")
        _collect_outputs(entry, node.get("outputs") or {}, node_types.get(str(node.get("node_id")), ""))
        summary.nodes[str(node["node_id"])] = entry


def apply_events(summary: RunSummary, events: Iterable[Mapping[str, Any]], node_types: Mapping[str, str]) -> None:
    """Fold `events` (dicts from `event_to_dict`, in sequence order) into `summary`."""
    for event in events:
        seq = int(event["seq"])
        if seq <= summary.last_seq:
            continue
        summary.last_seq = seq
        data = event.get("data") or {}
        node_id = event.get("node_id")
        if event["type"] == "run.status":
            _apply_run_status(summary, data)
        elif node_id:
            entry = summary.nodes.setdefault(node_id, new_node_summary())
            _apply_node_event(entry, event["type"], event.get("item_index"), data, node_types.get(node_id, ""))


def _apply_run_status(summary: RunSummary, data: Mapping[str, Any]) -> None:
    summary.status = str(data.get("status", summary.status))
    if "estimated_credits" in data:
        summary.estimated_credits = int(data["estimated_credits"] or 0)
    if "charged_credits" in data:
        summary.charged_credits = int(data["charged_credits"] or 0)
    if data.get("error"):
        summary.error = str(data["error"])
    for node_id in data.get("node_ids") or []:
        summary.nodes.setdefault(str(node_id), new_node_summary())


def _apply_node_event(entry: dict[str, Any], kind: str, item_index: int | None, data: Mapping[str, Any], node_type: str) -> None:
    if kind == "node.status":
        _apply_node_status(entry, data, node_type)
        return
    item = entry["items"].setdefault(str(item_index or 0), {"status": "queued", "progress": 0.0})
    if kind == "item.status":
        _apply_item_status(entry, item, data, node_type)
    elif kind == "item.queue":
        item["queue_position"] = data.get("queue_position")
        entry["queue_position"] = _min_queue_position(entry["items"])
    elif kind == "item.progress":
        item["progress"] = float(data.get("progress") or 0.0)
        entry["progress"] = _mean_progress(entry)
    elif kind == "item.log":
        _add_log(entry, str(data.get("message", "")))
    elif kind == "item.retry":
        _add_log(entry, f"Retrying (attempt {data.get('attempt')}): {data.get('error', '')}")


def _apply_node_status(entry: dict[str, Any], data: Mapping[str, Any], node_type: str) -> None:
    status = str(data.get("status", entry["status"]))
    entry["status"] = status
    entry["reused"] = entry["reused"] or status == "reused"
    if data.get("batch_count") is not None:
        entry["batch_count"] = int(data["batch_count"])
    if data.get("cost_credits") is not None:
        entry["cost_credits"] = int(data["cost_credits"])
    if data.get("error"):
        entry["error"] = str(data["error"])
    if data.get("because_of"):
        entry["error"] = f"Not run because node '{data['because_of']}' failed."
    if isinstance(data.get("outputs"), Mapping):
        _collect_outputs(entry, data["outputs"], node_type)
    if status in ("succeeded", "reused"):
        entry["progress"] = 1.0
    if status in _NODE_TERMINAL_STATUSES:
        entry["queue_position"] = None


def _apply_item_status(entry: dict[str, Any], item: dict[str, Any], data: Mapping[str, Any], node_type: str) -> None:
    status = str(data.get("status", item["status"]))
    item["status"] = status
    if status in _ITEM_DONE_STATUSES:
        item["progress"] = 1.0
        item.pop("queue_position", None)
        if isinstance(data.get("outputs"), Mapping):
            _collect_outputs(entry, data["outputs"], node_type)
        if status == "reused":
            entry["reused"] = True
    elif status in ("running", "failed", "cancelled"):
        item.pop("queue_position", None)
    if status == "failed" and data.get("error"):
        entry["error"] = str(data["error"])
        _add_log(entry, f"Failed: {data['error']}")
    if status == "cancelled" and data.get("note"):
        _add_log(entry, str(data["note"]))
    if status in ("submitted", "running") and entry["status"] in ("pending", "queued", "submitted"):
        entry["status"] = status
    entry["items_done"] = sum(1 for it in entry["items"].values() if it["status"] in _ITEM_DONE_STATUSES)
    entry["queue_position"] = _min_queue_position(entry["items"])
    entry["progress"] = _mean_progress(entry)


def _mean_progress(entry: dict[str, Any]) -> float | None:
    items = entry["items"]
    if not items:
        return entry["progress"]
    count = max(len(items), int(entry["batch_count"] or 0))
    return round(sum(float(item.get("progress") or 0.0) for item in items.values()) / count, 3)


def _min_queue_position(items: Mapping[str, Mapping[str, Any]]) -> int | None:
    positions = [int(item["queue_position"]) for item in items.values() if item.get("queue_position") is not None]
    return min(positions) if positions else None


def _add_log(entry: dict[str, Any], message: str) -> None:
    line = message.strip().replace("\n", " ")
    if not line:
        return
    if len(line) > MAX_LOG_LINE_CHARS:
        line = line[: MAX_LOG_LINE_CHARS - 1] + "…"
    entry["logs"] = [*entry["logs"], line][-MAX_LOG_LINES:]


def _collect_outputs(entry: dict[str, Any], outputs: Mapping[str, Any], node_type: str) -> None:
    """Add media previews (asset ids) and, for nodes without media, short texts."""
    previews: list[dict[str, str]] = list(entry["previews"])
    known = {preview["asset_id"] for preview in previews}
    texts: list[str] = []
    for value in _walk(outputs):
        if isinstance(value, Mapping) and isinstance(value.get("asset_id"), str):
            if value["asset_id"] not in known and len(previews) < MAX_PREVIEWS:
                previews.append({"asset_id": value["asset_id"], "kind": _media_kind(value)})
                known.add(value["asset_id"])
        elif isinstance(value, str) and value.strip():
            texts.append(value[:MAX_TEXT_CHARS])
    entry["previews"] = previews
    if not previews and node_type not in _ECHO_NODE_TYPES and texts:
        entry["texts"] = [*entry["texts"], *texts][-MAX_PREVIEWS:]


def _walk(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        if "asset_id" in value or "url" in value:
            yield value
            return
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)
    else:
        yield value


def _media_kind(value: Mapping[str, Any]) -> str:
    content_type = str(value.get("content_type") or "")
    for kind in _MEDIA_KINDS:
        if content_type.startswith(f"{kind}/"):
            return kind
    return "image" if value.get("width") else "file"
