"""Fault injection, run-time configuration and the request listing that tests use for observability."""

from __future__ import annotations

import time
from typing import Any

import httpx

FLUX = "fal-ai/flux/schnell"
ARGUMENTS = {"prompt": "a kite", "image_size": {"width": 128, "height": 96}}


def wait_completed(http: httpx.Client, status_url: str) -> dict[str, Any]:
    for _ in range(500):
        response = http.get(status_url)
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.01)
    raise AssertionError(f"{status_url} never completed")


def set_faults(http: httpx.Client, endpoint_id: str, **faults: Any) -> None:
    http.put(f"/_sandbox/endpoints/{endpoint_id}", json={"faults": faults}).raise_for_status()


def test_submit_rate_limit_burst(http: httpx.Client) -> None:
    set_faults(http, FLUX, rate_limit_submits=2)

    codes = [http.post(f"/{FLUX}", json=ARGUMENTS).status_code for _ in range(3)]
    other_endpoint = http.post("/fal-ai/flux/dev", json=ARGUMENTS)

    assert codes == [429, 429, 200]
    assert other_endpoint.status_code == 200
    listing = http.get("/_sandbox/requests").json()
    assert listing["injected_faults"] == {"submit_rate_limit": {FLUX: 2}}
    assert len(listing["requests"]) == 2


def test_status_rate_limit_burst(http: httpx.Client) -> None:
    set_faults(http, FLUX, rate_limit_status=2)
    submitted = http.post(f"/{FLUX}", json=ARGUMENTS).json()

    responses = [http.get(submitted["status_url"]) for _ in range(3)]

    assert [response.status_code for response in responses[:2]] == [429, 429]
    assert responses[0].headers["retry-after"] == "1"
    assert responses[2].status_code in {200, 202}


def test_result_server_errors_then_success(http: httpx.Client) -> None:
    set_faults(http, FLUX, result_server_errors=1)
    submitted = http.post(f"/{FLUX}", json=ARGUMENTS).json()
    wait_completed(http, submitted["status_url"])

    failed = http.get(submitted["response_url"])
    succeeded = http.get(submitted["response_url"])

    assert failed.status_code == 500
    assert failed.headers["x-fal-retryable"] == "true"
    assert failed.json()["detail"][0]["type"] == "internal_server_error"
    assert succeeded.status_code == 200


def test_validation_fault_names_param(http: httpx.Client) -> None:
    http.put(
        f"/_sandbox/endpoints/{FLUX}",
        json={"faults": {"validation_error": {"param": "image_size", "message": "Image size is too large"}}},
    ).raise_for_status()
    submitted = http.post(f"/{FLUX}", json=ARGUMENTS).json()

    status = wait_completed(http, submitted["status_url"])
    result = http.get(submitted["response_url"])

    assert status["status"] == "COMPLETED"
    assert result.status_code == 422
    assert result.json()["detail"] == [
        {"loc": ["body", "image_size"], "msg": "Image size is too large", "type": "value_error"}
    ]


def test_failure_rate_repeats_under_seed(http: httpx.Client) -> None:
    http.patch("/_sandbox/config", json={"faults": {"failure_rate": 0.5}, "fault_seed": 11}).raise_for_status()

    def outcomes() -> list[int]:
        urls = [http.post(f"/{FLUX}", json={**ARGUMENTS, "seed": seed}).json() for seed in range(12)]
        codes = []
        for submitted in urls:
            wait_completed(http, submitted["status_url"])
            codes.append(http.get(submitted["response_url"]).status_code)
        return codes

    first = outcomes()
    http.post("/_sandbox/reset").raise_for_status()
    http.patch("/_sandbox/config", json={"faults": {"failure_rate": 0.5}, "fault_seed": 11}).raise_for_status()
    second = outcomes()

    assert first == second
    assert set(first) == {200, 500}


def test_hang_never_completes(http: httpx.Client) -> None:
    set_faults(http, FLUX, hang=True)
    submitted = http.post(f"/{FLUX}", json=ARGUMENTS).json()

    statuses = []
    for _ in range(30):
        statuses.append(http.get(submitted["status_url"], params={"logs": "1"}).json())
        time.sleep(0.01)

    assert statuses[-1]["status"] == "IN_PROGRESS"
    assert "never completes" in statuses[-1]["logs"][-1]["message"]
    assert http.get(submitted["response_url"]).status_code == 400
    assert http.put(submitted["cancel_url"]).status_code == 202
    assert wait_completed(http, submitted["status_url"])["error_type"] == "request_cancelled"


def test_listing_shows_duplicates_and_overlap(http: httpx.Client) -> None:
    timing = {"queue_seconds": 0.0, "run_seconds": 0.8}
    http.patch("/_sandbox/config", json={"timing": timing, "max_concurrency": 4}).raise_for_status()
    first = http.post(f"/{FLUX}", json=ARGUMENTS).json()
    duplicate = http.post(f"/{FLUX}", json=ARGUMENTS).json()
    other = http.post("/fal-ai/flux/dev", json=ARGUMENTS).json()
    for submitted in (first, duplicate, other):
        wait_completed(http, submitted["status_url"])

    requests = {item["request_id"]: item for item in http.get("/_sandbox/requests").json()["requests"]}

    assert requests[first["request_id"]]["submit_index"] == 1
    assert requests[duplicate["request_id"]]["submit_index"] == 2
    assert requests[first["request_id"]]["submit_count"] == 2
    assert requests[other["request_id"]]["submit_count"] == 1
    assert requests[first["request_id"]]["arguments"] == ARGUMENTS
    flux_run = requests[first["request_id"]]
    dev_run = requests[other["request_id"]]
    assert flux_run["created_at"] <= flux_run["started_at"] <= flux_run["completed_at"]
    assert flux_run["started_at"] < dev_run["completed_at"]
    assert dev_run["started_at"] < flux_run["completed_at"]
    filtered = http.get("/_sandbox/requests", params={"endpoint_id": "fal-ai/flux/dev"}).json()["requests"]
    assert [item["request_id"] for item in filtered] == [other["request_id"]]


def test_config_routes_and_reset(http: httpx.Client) -> None:
    initial = http.get("/_sandbox/config").json()

    updated = http.patch("/_sandbox/config", json={"time_scale": 0.5, "max_concurrency": 2}).json()
    patched = http.patch("/_sandbox/config", json={"timing": {"log_count": 1}}).json()
    replaced = http.put("/_sandbox/config", json={"max_concurrency": 3}).json()
    invalid = http.put("/_sandbox/config", json={"time_scale": -1})
    invalid_patch = http.patch("/_sandbox/config", json={"timing": {"run_seconds": -1}})
    unknown_field = http.put("/_sandbox/config", json={"latency": 1})
    unknown_endpoint = http.put("/_sandbox/endpoints/fal-ai/nope", json={})
    http.put(f"/_sandbox/endpoints/{FLUX}", json={"faults": {"hang": True}}).raise_for_status()
    dropped = http.delete(f"/_sandbox/endpoints/{FLUX}").json()
    http.post("/_sandbox/reset").raise_for_status()

    assert updated["time_scale"] == 0.5
    assert updated["max_concurrency"] == 2
    assert patched["timing"]["log_count"] == 1
    assert patched["timing"]["run_seconds"] == initial["timing"]["run_seconds"]
    assert patched["time_scale"] == 0.5
    assert replaced["time_scale"] == 1.0
    assert replaced["timing"]["run_seconds"] == 2.0
    assert invalid.status_code == 422
    assert invalid_patch.status_code == 422
    assert invalid_patch.json()["detail"][0]["loc"] == ["timing", "run_seconds"]
    assert unknown_field.status_code == 422
    assert unknown_endpoint.status_code == 404
    assert dropped["endpoints"] == {}
    assert http.get("/_sandbox/config").json() == initial
    assert http.get("/_sandbox/requests").json()["requests"] == []


def test_slow_result_holds_response(http: httpx.Client) -> None:
    set_faults(http, FLUX, slow_result_seconds=30)
    submitted = http.post(f"/{FLUX}", json=ARGUMENTS).json()
    wait_completed(http, submitted["status_url"])

    with httpx.Client(trust_env=False, timeout=0.3) as impatient:
        try:
            impatient.get(submitted["response_url"])
            timed_out = False
        except httpx.ReadTimeout:
            timed_out = True

    assert timed_out
