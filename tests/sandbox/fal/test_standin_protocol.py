"""fal's queue protocol over real HTTP: body shapes, status codes and headers of every route."""

from __future__ import annotations

import time
from typing import Any

import httpx

from falflow.sandbox.fal import RunningStandin

FLUX = "fal-ai/flux/schnell"
FLUX_ARGUMENTS = {"prompt": "a red kite", "image_size": {"width": 128, "height": 96}}


def wait_completed(http: httpx.Client, status_url: str) -> dict[str, Any]:
    for _ in range(500):
        response = http.get(status_url, params={"logs": "1"})
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.01)
    raise AssertionError(f"{status_url} never completed")


def slow_down(http: httpx.Client, endpoint_id: str, *, queue_seconds: float, run_seconds: float) -> None:
    timing = {"queue_seconds": queue_seconds, "run_seconds": run_seconds, "log_count": 4}
    http.put(f"/_sandbox/endpoints/{endpoint_id}", json={"timing": timing}).raise_for_status()


def test_submit_returns_urls_on_own_origin(http: httpx.Client, standin: RunningStandin) -> None:
    response = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS)

    assert response.status_code == 200
    body = response.json()
    request_id = body["request_id"]
    base = f"{standin.url}/fal-ai/flux/requests/{request_id}"
    assert body["response_url"] == base
    assert body["status_url"] == f"{base}/status"
    assert body["cancel_url"] == f"{base}/cancel"
    assert body["status"] == "IN_QUEUE"
    assert body["queue_position"] == 0
    assert response.headers["x-fal-request-id"] == request_id
    assert response.headers["x-falflow-sandbox"] == "1"


def test_status_shapes_through_lifecycle(http: httpx.Client) -> None:
    slow_down(http, FLUX, queue_seconds=0.5, run_seconds=0.5)
    submitted = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS).json()

    queued = http.get(submitted["status_url"])
    assert queued.status_code == 202
    assert queued.json()["status"] == "IN_QUEUE"
    assert queued.json()["queue_position"] == 0
    assert "logs" not in queued.json()

    states = []
    for _ in range(200):
        response = http.get(submitted["status_url"], params={"logs": "true"})
        states.append(response.json()["status"])
        if response.json()["status"] == "IN_PROGRESS":
            running = response.json()
            assert response.status_code == 202
            assert isinstance(running["logs"], list)
            assert running["metrics"] == {}
            break
        time.sleep(0.02)
    assert "IN_PROGRESS" in states

    completed = wait_completed(http, submitted["status_url"])
    assert completed["status"] == "COMPLETED"
    assert completed["metrics"]["inference_time"] > 0
    assert [log["message"] for log in completed["logs"]][-4:] == ["step 1/4", "step 2/4", "step 3/4", "step 4/4"]
    log = completed["logs"][0]
    assert log["level"] == "INFO"
    assert log["source"] == "USER"
    assert "T" in log["timestamp"]
    assert "error" not in completed


def test_status_logs_flag_values(http: httpx.Client) -> None:
    submitted = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS).json()
    wait_completed(http, submitted["status_url"])

    for value in ("1", "true"):
        assert isinstance(http.get(submitted["status_url"], params={"logs": value}).json()["logs"], list)
    for value in ("0", "false"):
        assert http.get(submitted["status_url"], params={"logs": value}).json()["logs"] is None
    assert http.get(submitted["status_url"]).json()["logs"] is None


def test_result_states(http: httpx.Client) -> None:
    slow_down(http, FLUX, queue_seconds=0.5, run_seconds=0.1)
    submitted = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS).json()

    early = http.get(submitted["response_url"])
    assert early.status_code == 400

    wait_completed(http, submitted["status_url"])
    done = http.get(submitted["response_url"])
    assert done.status_code == 200
    assert done.headers["x-fal-request-id"] == submitted["request_id"]
    assert done.json()["images"][0]["width"] == 128

    unknown = http.get("/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404


def test_result_under_wrong_app_is_not_found(http: httpx.Client) -> None:
    submitted = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS).json()
    wait_completed(http, submitted["status_url"])

    response = http.get(f"/fal-ai/recraft/requests/{submitted['request_id']}")

    assert response.status_code == 404


def test_cancel_states(http: httpx.Client) -> None:
    slow_down(http, FLUX, queue_seconds=5.0, run_seconds=0.1)
    submitted = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS).json()

    cancelled = http.put(submitted["cancel_url"])
    assert cancelled.status_code == 202
    assert cancelled.json() == {"status": "CANCELLATION_REQUESTED"}

    status = wait_completed(http, submitted["status_url"])
    assert status["status"] == "COMPLETED"
    assert status["error_type"] == "request_cancelled"
    again = http.put(submitted["cancel_url"])
    assert again.status_code == 400
    assert again.json() == {"status": "ALREADY_COMPLETED"}

    missing = http.put("/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/cancel")
    assert missing.status_code == 404
    assert missing.json()["status"] == "NOT_FOUND"


def test_queue_positions_follow_submit_order(http: httpx.Client) -> None:
    http.put("/_sandbox/config", json={"max_concurrency": 1, "timing": {"queue_seconds": 0, "run_seconds": 5}})
    first = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS).json()
    for _ in range(200):
        if http.get(first["status_url"]).json()["status"] == "IN_PROGRESS":
            break
        time.sleep(0.01)

    second = http.post(f"/{FLUX}", json={**FLUX_ARGUMENTS, "seed": 1}).json()
    third = http.post(f"/{FLUX}", json={**FLUX_ARGUMENTS, "seed": 2}).json()

    assert second["queue_position"] == 0
    assert third["queue_position"] == 1
    http.put(second["cancel_url"]).raise_for_status()
    assert http.get(third["status_url"]).json()["queue_position"] == 0


def test_unknown_endpoint_is_not_found(http: httpx.Client) -> None:
    response = http.post("/fal-ai/does-not-exist", json={"prompt": "x"})

    assert response.status_code == 404
    assert "does-not-exist" in response.json()["detail"]


def test_body_must_be_json_object(http: httpx.Client) -> None:
    response = http.post(f"/{FLUX}", content=b"[1, 2]", headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "dict_type"


def test_invalid_input_fails_on_result(http: httpx.Client) -> None:
    submitted = http.post(f"/{FLUX}", json={"image_size": "huge", "num_images": 9}).json()

    status = wait_completed(http, submitted["status_url"])
    result = http.get(submitted["response_url"])

    assert status["status"] == "COMPLETED"
    assert status["error_type"] == "missing"
    assert result.status_code == 422
    assert result.headers["x-fal-retryable"] == "false"
    locations = [entry["loc"] for entry in result.json()["detail"]]
    assert locations == [["body", "prompt"], ["body", "image_size"], ["body", "num_images"]]


def test_account_lock_and_keys(http: httpx.Client) -> None:
    http.put("/_sandbox/config", json={"accepted_keys": ["id:secret"]}).raise_for_status()

    missing_key = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS)
    good_key = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS, headers={"Authorization": "Key id:secret"})
    http.put("/_sandbox/config", json={"account_locked": True}).raise_for_status()
    locked = http.post(f"/{FLUX}", json=FLUX_ARGUMENTS)

    assert missing_key.status_code == 401
    assert missing_key.json()["detail"] == "No user found for Key ID and Secret"
    assert good_key.status_code == 200
    assert locked.status_code == 403
    assert "Exhausted balance" in locked.json()["detail"]


def test_health_and_docs_are_served(http: httpx.Client) -> None:
    health = http.get("/_sandbox/health").json()

    assert health == {"status": "ok", "sandbox": True, "endpoints": 33}
    assert http.get("/_sandbox/openapi.json").status_code == 200
