"""The run engine against the fal stand-in: events, parallelism, retries, failures, cancel, cache."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from falflow.billing.ledger import find_ledger_violations
from falflow.context import AppContext, get_context, reset_context
from falflow.sandbox.fal import EndpointOverride, Faults, RunningStandin, Timing, ValidationFault
from tests.conftest import sign_up
from tests.runs.conftest import (
    configure_standin,
    create_workflow,
    edge,
    flux_node,
    standin_requests,
    start_run,
    text_node,
    wait_for_run,
)

CHAIN = {
    "nodes": [text_node("prompt", "a lighthouse at dusk"), flux_node("flux", seed=11)],
    "edges": [edge("prompt", "text", "flux", "prompt")],
}
BRANCHES = {
    "nodes": [text_node("prompt", "two moons"), flux_node("left", seed=1), flux_node("right", seed=2)],
    "edges": [edge("prompt", "text", "left", "prompt"), edge("prompt", "text", "right", "prompt")],
}
FLUX_UPSCALE = {
    "nodes": [
        text_node("prompt", "a red fox in snow"),
        flux_node("flux", seed=7),
        {"id": "upscale", "type": "fal-ai/clarity-upscaler", "params": {"upscale_factor": 2, "seed": 1}},
    ],
    "edges": [edge("prompt", "text", "flux", "prompt"), edge("flux", "images", "upscale", "image_url")],
}


def _nodes(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["node_id"]: node for node in run["nodes"]}


def _events(client: TestClient, headers: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    return client.get(f"/api/runs/{run_id}/events", headers=headers).json()["events"]


def test_event_sequence_of_a_chain(engine_client: TestClient) -> None:
    headers = sign_up(engine_client)["headers"]
    run_id = start_run(engine_client, headers, create_workflow(engine_client, headers, CHAIN))
    assert wait_for_run(engine_client, headers, run_id)["status"] == "succeeded"

    events = _events(engine_client, headers, run_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    transitions = [
        (e["type"], e["node_id"], e["data"].get("status"))
        for e in events
        if e["type"] in ("run.status", "node.status") or (e["type"] == "item.status")
    ]
    assert transitions == [
        ("run.status", None, "queued"),
        ("run.status", None, "running"),
        ("node.status", "prompt", "succeeded"),
        ("node.status", "flux", "queued"),
        ("item.status", "flux", "submitted"),
        ("item.status", "flux", "running"),
        ("item.status", "flux", "succeeded"),
        ("node.status", "flux", "succeeded"),
        ("run.status", None, "succeeded"),
    ]
    logs = [e for e in events if e["type"] == "item.log"]
    assert logs, "the stand-in's progress lines should be recorded"
    progress = [e["data"]["progress"] for e in events if e["type"] == "item.progress"]
    assert progress[-1] == 1.0


def test_events_after_cursor_skip_nothing(engine_client: TestClient) -> None:
    headers = sign_up(engine_client)["headers"]
    run_id = start_run(engine_client, headers, create_workflow(engine_client, headers, CHAIN))
    wait_for_run(engine_client, headers, run_id)
    everything = _events(engine_client, headers, run_id)
    later = engine_client.get(f"/api/runs/{run_id}/events?after=3", headers=headers).json()["events"]
    assert later == everything[3:]


def test_event_stream_replays_from_last_event_id(engine_client: TestClient) -> None:
    headers = sign_up(engine_client)["headers"]
    run_id = start_run(engine_client, headers, create_workflow(engine_client, headers, CHAIN))
    wait_for_run(engine_client, headers, run_id)
    total = len(_events(engine_client, headers, run_id))
    stream = engine_client.get(f"/api/runs/{run_id}/events/stream", headers={**headers, "Last-Event-ID": "2"})
    ids = [int(line[4:]) for line in stream.text.splitlines() if line.startswith("id: ")]
    assert ids == list(range(3, total + 1))
    assert "event: end" in stream.text


def test_independent_branches_overlap(engine_client: TestClient, fal_standin: RunningStandin) -> None:
    headers = sign_up(engine_client)["headers"]
    configure_standin(fal_standin, timing=Timing(queue_seconds=0.0, run_seconds=0.8, log_count=2))
    run = wait_for_run(engine_client, headers, start_run(engine_client, headers, create_workflow(engine_client, headers, BRANCHES)))
    assert run["status"] == "succeeded"
    requests = sorted(standin_requests(fal_standin), key=lambda r: r["started_at"])
    assert len(requests) == 2
    first, second = requests
    # The second branch started before the first one completed: they ran at the same time.
    assert second["started_at"] < first["completed_at"]


def test_rate_limit_and_server_error_are_retried(engine_client: TestClient, fal_standin: RunningStandin) -> None:
    headers = sign_up(engine_client)["headers"]
    configure_standin(fal_standin, faults=Faults(rate_limit_submits=2, result_server_errors=1))
    run = wait_for_run(engine_client, headers, start_run(engine_client, headers, create_workflow(engine_client, headers, CHAIN)))
    assert run["status"] == "succeeded", run["nodes"]
    item = _nodes(run)["flux"]["items"][0]
    # A 500 on the result means the request failed at fal, so the engine submitted it again.
    assert item["attempts"] == 2
    assert len(standin_requests(fal_standin)) == 2
    injected = httpx.get(f"{fal_standin.url}/_sandbox/requests", timeout=10).json()["injected_faults"]
    assert sum(injected["submit_rate_limit"].values()) == 2
    assert sum(injected["result_server_error"].values()) == 1
    retries = [e for e in _events(engine_client, headers, run["id"]) if e["type"] == "item.retry"]
    assert any("500" in e["data"]["error"] or "server" in e["data"]["error"].lower() for e in retries)


def test_validation_error_is_not_retried(engine_client: TestClient, fal_standin: RunningStandin, app_env: AppContext) -> None:
    account = sign_up(engine_client)
    headers = account["headers"]
    configure_standin(fal_standin, faults=Faults(validation_error=ValidationFault(param="prompt", message="prompt is not allowed")))
    run = wait_for_run(engine_client, headers, start_run(engine_client, headers, create_workflow(engine_client, headers, CHAIN)))

    assert run["status"] == "failed"
    flux = _nodes(run)["flux"]
    assert flux["status"] == "failed"
    assert "prompt" in flux["error"]
    assert flux["items"][0]["error_code"] == "fal_validation_error"
    assert len(standin_requests(fal_standin)) == 1
    assert run["charged_credits"] == 0
    me = engine_client.get("/api/me", headers=headers).json()
    assert me["credits"] == {"balance": 2000, "reserved": 0, "available": 2000}


def test_failed_branch_blocks_descendants_and_others_finish(engine_client: TestClient, fal_standin: RunningStandin) -> None:
    headers = sign_up(engine_client)["headers"]
    document = {
        "nodes": [
            text_node("prompt", "a castle"),
            {"id": "bad", "type": "fal-ai/flux/dev", "params": {"image_size": "square", "seed": 3}},
            {"id": "after_bad", "type": "fal-ai/clarity-upscaler", "params": {"seed": 1}},
            flux_node("good", seed=4),
        ],
        "edges": [
            edge("prompt", "text", "bad", "prompt"),
            edge("bad", "images", "after_bad", "image_url"),
            edge("prompt", "text", "good", "prompt"),
        ],
    }
    configure_standin(fal_standin, endpoints={"fal-ai/flux/dev": EndpointOverride(
        faults=Faults(validation_error=ValidationFault(param="image_size", message="unsupported size")))})
    run = wait_for_run(engine_client, headers, start_run(engine_client, headers, create_workflow(engine_client, headers, document)))
    nodes = _nodes(run)
    assert run["status"] == "failed"
    assert nodes["bad"]["status"] == "failed"
    assert nodes["after_bad"]["status"] == "blocked"
    assert nodes["good"]["status"] == "succeeded"
    assert run["charged_credits"] == nodes["good"]["cost_credits"] > 0


def test_node_timeout_cancels_at_fal(engine_client: TestClient, fal_standin: RunningStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    from falflow.runs.services import get_run_services

    get_run_services().node_timeout_seconds = 1.0
    headers = sign_up(engine_client)["headers"]
    configure_standin(fal_standin, faults=Faults(hang=True))
    run = wait_for_run(engine_client, headers, start_run(engine_client, headers, create_workflow(engine_client, headers, CHAIN)))
    flux = _nodes(run)["flux"]
    assert run["status"] == "failed"
    assert flux["items"][0]["error_code"] == "timeout"
    assert "timed out" in flux["error"]
    assert run["charged_credits"] == 0


def test_cancel_releases_the_hold(engine_client: TestClient, fal_standin: RunningStandin) -> None:
    headers = sign_up(engine_client)["headers"]
    configure_standin(fal_standin, timing=Timing(queue_seconds=0.0, run_seconds=30, log_count=2))
    run_id = start_run(engine_client, headers, create_workflow(engine_client, headers, FLUX_UPSCALE))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        flux = _nodes(engine_client.get(f"/api/runs/{run_id}", headers=headers).json())["flux"]
        if flux["items"] and flux["items"][0]["fal_request_id"]:
            break
        time.sleep(0.05)
    response = engine_client.post(f"/api/runs/{run_id}/cancel", headers=headers)
    assert response.status_code == 202
    run = wait_for_run(engine_client, headers, run_id, timeout=20)
    nodes = _nodes(run)
    assert run["status"] == "cancelled"
    assert nodes["flux"]["status"] == "cancelled"
    assert nodes["upscale"]["status"] == "cancelled"
    assert run["charged_credits"] == 0
    me = engine_client.get("/api/me", headers=headers).json()
    assert me["credits"] == {"balance": 2000, "reserved": 0, "available": 2000}
    # The request was already running at fal, so falflow reports that fal may still bill it.
    assert nodes["flux"]["items"][0]["may_be_billed"] is True
    assert "may bill" in run["note"]


def test_cache_hit_costs_nothing(engine_client: TestClient, fal_standin: RunningStandin) -> None:
    headers = sign_up(engine_client)["headers"]
    workflow_id = create_workflow(engine_client, headers, FLUX_UPSCALE)
    first = wait_for_run(engine_client, headers, start_run(engine_client, headers, workflow_id))
    second = wait_for_run(engine_client, headers, start_run(engine_client, headers, workflow_id))

    assert first["charged_credits"] > 0
    assert second["status"] == "succeeded"
    assert second["charged_credits"] == 0
    assert {n["node_id"]: n["status"] for n in second["nodes"]} == {"prompt": "succeeded", "flux": "reused", "upscale": "reused"}
    assert len(standin_requests(fal_standin)) == 2  # only the first run reached fal

    forced = wait_for_run(engine_client, headers, start_run(engine_client, headers, workflow_id, force=True))
    assert forced["charged_credits"] == first["charged_credits"]
    assert len(standin_requests(fal_standin)) == 4


def test_run_up_to_a_node_runs_only_its_ancestors(engine_client: TestClient, fal_standin: RunningStandin) -> None:
    headers = sign_up(engine_client)["headers"]
    workflow_id = create_workflow(engine_client, headers, FLUX_UPSCALE)
    run = wait_for_run(engine_client, headers, start_run(engine_client, headers, workflow_id, only_up_to="flux"))
    assert run["status"] == "succeeded"
    assert set(_nodes(run)) == {"prompt", "flux"}
    assert [r["endpoint_id"] for r in standin_requests(fal_standin)] == ["fal-ai/flux/schnell"]


def test_run_from_a_node_reuses_upstream_outputs(engine_client: TestClient, fal_standin: RunningStandin) -> None:
    headers = sign_up(engine_client)["headers"]
    workflow_id = create_workflow(engine_client, headers, FLUX_UPSCALE)
    first = wait_for_run(engine_client, headers, start_run(engine_client, headers, workflow_id, only_up_to="flux"))
    second = wait_for_run(engine_client, headers, start_run(engine_client, headers, workflow_id, start_from="upscale"))
    nodes = _nodes(second)
    assert second["status"] == "succeeded"
    assert nodes["flux"]["status"] == "reused"
    assert nodes["flux"]["reused_from_run_id"] == first["id"]
    assert nodes["upscale"]["status"] == "succeeded"
    assert [r["endpoint_id"] for r in standin_requests(fal_standin)] == ["fal-ai/flux/schnell", "fal-ai/clarity-upscaler"]


def test_invalid_workflow_is_refused_before_spending(engine_client: TestClient, app_env: AppContext) -> None:
    headers = sign_up(engine_client)["headers"]
    document = {"nodes": [flux_node("flux")], "edges": []}  # no prompt
    workflow_id = create_workflow(engine_client, headers, document)
    response = engine_client.post(f"/api/workflows/{workflow_id}/run", headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["code"] == "missing_required_input"
    assert body["errors"][0]["node_id"] == "flux"
    assert engine_client.get("/api/runs", headers=headers).json() == []
    with app_env.database.read_session() as session:
        assert find_ledger_violations(session) == []


def test_per_user_cap_limits_requests_in_flight(engine_client: TestClient, fal_standin: RunningStandin) -> None:
    from falflow.runs.services import get_run_services

    get_run_services().per_user_concurrency = 2
    headers = sign_up(engine_client)["headers"]
    configure_standin(fal_standin, timing=Timing(queue_seconds=0.0, run_seconds=0.5, log_count=1))
    branches = [flux_node(f"branch{index}", seed=index) for index in range(6)]
    document = {
        "nodes": [text_node("prompt", "six branches"), *branches],
        "edges": [edge("prompt", "text", node["id"], "prompt") for node in branches],
    }
    run = wait_for_run(engine_client, headers, start_run(engine_client, headers, create_workflow(engine_client, headers, document)))
    assert run["status"] == "succeeded"

    requests = standin_requests(fal_standin)
    assert len(requests) == 6
    # At any moment at most two of this user's requests were between submit and completion.
    moments = sorted({r["created_at"] for r in requests} | {r["completed_at"] for r in requests})
    in_flight = [sum(1 for r in requests if r["created_at"] <= t < r["completed_at"]) for t in moments]
    assert max(in_flight) == 2


def test_run_committed_before_crash_starts_on_restart(
    engine_env: AppContext, fal_standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run committed just before a crash, whose items never started, finishes after a restart.

    The crash is simulated: `RunEngine.start` is replaced with a no-op for the first process, so
    the run is committed and returned with 202 but never handed to the engine.
    """
    from falflow.api import create_standalone_app
    from falflow.runs.engine import RunEngine

    async def crash_before_start(self: RunEngine, run_id: Any, decision: Any = None) -> None:
        return None

    with monkeypatch.context() as patch:
        patch.setattr(RunEngine, "start", crash_before_start)
        with TestClient(create_standalone_app(), base_url="http://localhost:3000") as first:
            headers = sign_up(first)["headers"]
            run_id = start_run(first, headers, create_workflow(first, headers, FLUX_UPSCALE))
            assert first.get(f"/api/runs/{run_id}", headers=headers).json()["status"] == "running"
    assert standin_requests(fal_standin) == []

    with TestClient(create_standalone_app(), base_url="http://localhost:3000") as restarted:
        run = wait_for_run(restarted, headers, run_id)
    assert run["status"] == "succeeded"
    requests = standin_requests(fal_standin)
    assert len(requests) == 2
    assert all(r["submit_count"] == 1 for r in requests)
    with engine_env.database.read_session() as session:
        assert find_ledger_violations(session) == []


def test_parallel_run_on_two_threads(
    engine_env: AppContext, fal_standin: RunningStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six branches in flight finish on two engine threads and two API threads.

    Without the bound, DBOS starts a thread for every blocking call that finds no idle one, and keeps it.
    """
    from falflow.api import create_standalone_app

    monkeypatch.setenv("FALFLOW_ENGINE_THREADS", "2")
    monkeypatch.setenv("FALFLOW_API_THREADS", "2")
    reset_context()
    configure_standin(fal_standin, timing=Timing(queue_seconds=0.0, run_seconds=0.4, log_count=2))
    branches = [flux_node(f"branch{index}", seed=index) for index in range(6)]
    document = {
        "nodes": [text_node("prompt", "six branches"), *branches],
        "edges": [edge("prompt", "text", node["id"], "prompt") for node in branches],
    }
    with TestClient(create_standalone_app(), base_url="http://localhost:3000") as client:
        from falflow.runs.services import get_run_services

        get_run_services().per_user_concurrency = 6
        headers = sign_up(client)["headers"]
        run = wait_for_run(client, headers, start_run(client, headers, create_workflow(client, headers, document)))
        engine_threads = [t for t in threading.enumerate() if t.name.startswith("dbos-executor-")]
    assert run["status"] == "succeeded"
    assert len(standin_requests(fal_standin)) == 6
    assert 1 <= len(engine_threads) <= 2


@pytest.mark.parametrize(("stream", "expected_streams"), [("true", 1), ("false", 0)])
def test_status_stream_replaces_polls(
    engine_env: AppContext, fal_standin: RunningStandin, monkeypatch: pytest.MonkeyPatch, stream: str,
    expected_streams: int,
) -> None:
    """The engine follows each request over one status stream, or polls when the stream is switched off."""
    from falflow.api import create_standalone_app

    monkeypatch.setenv("FALFLOW_FAL_STATUS_STREAM", stream)
    reset_context()
    configure_standin(fal_standin, timing=Timing(queue_seconds=0.05, run_seconds=0.3, log_count=3))
    with TestClient(create_standalone_app(), base_url="http://localhost:3000") as client:
        headers = sign_up(client)["headers"]
        run_id = start_run(client, headers, create_workflow(client, headers, FLUX_UPSCALE))
        run = wait_for_run(client, headers, run_id)
        logs = [e["data"]["message"] for e in _events(client, headers, run_id) if e["type"] == "item.log"]
    assert run["status"] == "succeeded"
    requests = standin_requests(fal_standin)
    assert len(requests) == 2
    assert [r["status_streams"] for r in requests] == [expected_streams] * 2
    polls = [r["status_polls"] for r in requests]
    if expected_streams:
        assert polls == [0, 0]
    else:
        assert min(polls) > 0
    assert logs.count("step 3/3") == 2


def test_thumbnails_rendered_after_success_commit(
    engine_client: TestClient, app_env: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run succeeds while its outputs' thumbnails wait, and the thumbnails follow on their own thread.

    Rendering is held back until the run has succeeded, so a thumbnail rendered before the success
    commit would stall the run. On SQLite the rendering must not hold the one-writer lock.
    """
    from falflow.assets import service as asset_service

    database = get_context().database
    release = threading.Event()
    lock_held: list[bool] = []
    render = asset_service.render_image_thumbnail

    def held_render(data: bytes, image_format: str) -> bytes:
        assert release.wait(60), "the test never released the thumbnails"
        lock = database._writer_lock
        lock_held.append(bool(getattr(lock, "_is_owned", lambda: False)()))
        return render(data, image_format)

    monkeypatch.setattr(asset_service, "render_image_thumbnail", held_render)
    headers = sign_up(engine_client)["headers"]
    run_id = start_run(engine_client, headers, create_workflow(engine_client, headers, FLUX_UPSCALE))
    try:
        run = wait_for_run(engine_client, headers, run_id)
    finally:
        release.set()
    assets = engine_client.get("/api/assets", params={"run_id": run_id}, headers=headers).json()["items"]

    assert run["status"] == "succeeded"
    assert len(assets) == 2
    deadline = time.monotonic() + 30
    while len(lock_held) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lock_held == [False, False]
    for asset in assets:
        response = engine_client.get(f"/api/assets/{asset['id']}/thumbnail", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
