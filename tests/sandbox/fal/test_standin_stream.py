"""The SSE status stream emits each status change as a data line and closes after COMPLETED."""

from __future__ import annotations

import json
from typing import Any

import httpx

FLUX = "fal-ai/flux/schnell"


def read_events(http: httpx.Client, url: str) -> tuple[list[dict[str, Any]], httpx.Headers]:
    events = []
    with http.stream("GET", url, params={"logs": "1"}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
        return events, response.headers


def test_stream_emits_statuses_and_closes(http: httpx.Client) -> None:
    timing = {"queue_seconds": 0.2, "run_seconds": 0.4, "log_count": 4}
    http.put(f"/_sandbox/endpoints/{FLUX}", json={"timing": timing}).raise_for_status()
    submitted = http.post(f"/{FLUX}", json={"prompt": "a kite", "image_size": "square"}).json()

    events, headers = read_events(http, f"{submitted['status_url']}/stream")

    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-fal-request-id"] == submitted["request_id"]
    statuses = [event["status"] for event in events]
    assert statuses[0] == "IN_QUEUE"
    assert "IN_PROGRESS" in statuses
    assert statuses[-1] == "COMPLETED"
    assert statuses.count("COMPLETED") == 1
    assert events[-1]["metrics"]["inference_time"] > 0
    messages = [log["message"] for event in events for log in event.get("logs") or []]
    assert messages[-1] == "step 4/4"
    assert len(messages) == len(set(messages))  # each line once: events carry only new lines


def test_stream_of_completed_request_sends_one_event(http: httpx.Client) -> None:
    submitted = http.post(f"/{FLUX}", json={"prompt": "a kite", "image_size": "square"}).json()
    http.get(submitted["response_url"])
    first_events, _ = read_events(http, f"{submitted['status_url']}/stream")

    events, _ = read_events(http, f"{submitted['status_url']}/stream")

    assert first_events[-1]["status"] == "COMPLETED"
    assert [event["status"] for event in events] == ["COMPLETED"]


def test_stream_of_unknown_request_is_not_found(http: httpx.Client) -> None:
    response = http.get("/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/status/stream")

    assert response.status_code == 404
