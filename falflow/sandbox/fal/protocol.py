"""Response bodies of fal's queue protocol, built from request records.

Shapes (fal queue API, as fal-client 1.0.3 parses them):

- submit (HTTP 200): ``request_id``, ``response_url``, ``status_url``, ``cancel_url``, ``status``
  ``IN_QUEUE`` and ``queue_position``;
- status IN_QUEUE (HTTP 202): those URLs plus ``queue_position`` (0 means next);
- status IN_PROGRESS (HTTP 202): ``logs`` (null unless requested) and ``metrics`` ({} while running);
- status COMPLETED (HTTP 200): ``logs``, ``metrics`` with ``inference_time`` in seconds, and ``error`` /
  ``error_type`` when the result is an error.

fal uses only these three states; fal-client raises on any other status string.
"""

from __future__ import annotations

from typing import Any

from falflow.sandbox.fal.records import QueueState, RequestRecord

# Namespaces that fal keeps in front of the owner, as in 'workflows/<owner>/<app>'.
APP_NAMESPACES = frozenset({"workflows", "comfy"})


def app_path(endpoint_id: str) -> str:
    """Return the part of an endpoint id that status, result and cancel URLs use: [namespace/]owner/app."""
    parts = endpoint_id.split("/")
    keep = 3 if parts[0] in APP_NAMESPACES else 2
    return "/".join(parts[:keep])


def parse_logs_flag(value: str | None) -> bool:
    """Return the ``logs`` query flag; fal-js sends 1/0 and fal-client sends true/false."""
    return value is not None and value.strip().lower() in {"1", "true", "yes"}


def submit_body(record: RequestRecord, queue_position: int) -> dict[str, Any]:
    return {**_urls(record), "status": QueueState.IN_QUEUE.value, "queue_position": queue_position}


def status_body(record: RequestRecord, queue_position: int, *, with_logs: bool) -> dict[str, Any]:
    body: dict[str, Any] = {**_urls(record), "status": record.state.value}
    if record.state is QueueState.IN_QUEUE:
        body["queue_position"] = queue_position
        return body
    body["logs"] = list(record.logs) if with_logs else None
    if record.state is QueueState.IN_PROGRESS:
        body["metrics"] = {}
        return body
    body["metrics"] = {"inference_time": _inference_seconds(record)}
    outcome = record.outcome
    if outcome is not None and outcome.error is not None:
        body["error"] = outcome.error
        body["error_type"] = outcome.error_type
    return body


def _urls(record: RequestRecord) -> dict[str, Any]:
    base = record.request_url
    return {
        "request_id": record.request_id,
        "response_url": base,
        "status_url": f"{base}/status",
        "cancel_url": f"{base}/cancel",
    }


def _inference_seconds(record: RequestRecord) -> float | None:
    if record.started_at is None or record.completed_at is None:
        return None
    return round(record.completed_at - record.started_at, 3)
