"""`kill -9` of the app process mid-run, then a restart: the run resumes without a second submission.

The app and the fal stand-in run as real subprocesses here, so the kill is a real SIGKILL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from falflow.billing.ledger import find_ledger_violations
from falflow.context import AppContext
from tests.processes import ManagedProcess, StandinProcess, clean_env, free_port
from tests.runs.conftest import edge, reset_engine_schema, text_node

PIPELINE = {
    "nodes": [
        text_node("prompt", "a paper boat on a lake"),
        {"id": "flux", "type": "fal-ai/flux/schnell", "params": {"image_size": "square", "seed": 21}},
        {"id": "upscale", "type": "fal-ai/clarity-upscaler", "params": {"upscale_factor": 2, "seed": 3}},
        {"id": "remove_bg", "type": "fal-ai/bria/background/remove", "params": {}},
    ],
    "edges": [
        edge("prompt", "text", "flux", "prompt"),
        edge("flux", "images", "upscale", "image_url"),
        edge("upscale", "image", "remove_bg", "image_url"),
    ],
}


@pytest.fixture
def standin_process() -> Iterator[str]:
    standin = StandinProcess("--queue-seconds", "0", "--run-seconds", "1.5", "--log-count", "3")
    try:
        yield standin.url
    finally:
        standin.stop()


def _run(client: httpx.Client, run_id: str) -> dict[str, Any]:
    return client.get(f"/api/runs/{run_id}").json()


def test_sigkill_mid_run_resumes_without_resubmitting(
    app_env: AppContext, standin_process: str, tmp_path: Path
) -> None:
    database_url = app_env.settings.resolved_database_url
    reset_engine_schema(database_url)
    env = clean_env(
        FALFLOW_DATABASE_URL=database_url,
        FALFLOW_DATA_DIR=str(app_env.settings.data_dir),
        FALFLOW_JWT_SECRET=app_env.settings.jwt_secret.get_secret_value() if app_env.settings.jwt_secret else "",
        FALFLOW_SANDBOX_FAL_URL=standin_process,
        FALFLOW_FAL_POLL_INTERVAL_SECONDS="0.05",
        FALFLOW_LOG_JSON="false",
    )
    port = free_port()
    app = ManagedProcess("falflow.serve_api", ["--port", str(port)], env, tmp_path / "app.log",
                         ready_url=f"http://127.0.0.1:{port}/api/nodes")
    app.start()
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        token = client.post("/api/auth/signup", json={"email": "crash@example.com", "password": "correct horse battery"}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        workflow_id = client.post("/api/workflows", json={"name": "crash", "document": PIPELINE}).json()["id"]
        run_id = client.post(f"/api/workflows/{workflow_id}/run").json()["run_id"]

        # Kill while the upscaler's request is running at fal (the flux node has finished).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            nodes = {n["node_id"]: n for n in _run(client, run_id)["nodes"]}
            items = nodes["upscale"]["items"]
            if items and items[0]["fal_request_id"] and items[0]["status"] in ("submitted", "running"):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the upscaler never started")
        app.kill()
        submitted_before = httpx.get(f"{standin_process}/_sandbox/requests").json()["requests"]
        assert [r["endpoint_id"] for r in submitted_before] == ["fal-ai/flux/schnell", "fal-ai/clarity-upscaler"]

        app.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = _run(client, run_id)
            if run["status"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.1)
        assert run["status"] == "succeeded", run

        requests = httpx.get(f"{standin_process}/_sandbox/requests").json()["requests"]
        assert [r["endpoint_id"] for r in requests] == [
            "fal-ai/flux/schnell", "fal-ai/clarity-upscaler", "fal-ai/bria/background/remove",
        ]
        assert all(r["submit_count"] == 1 for r in requests)
        nodes = {n["node_id"]: n for n in run["nodes"]}
        assert nodes["upscale"]["items"][0]["fal_request_id"] == submitted_before[1]["request_id"]

        charged = sum(n["cost_credits"] for n in run["nodes"])
        assert run["charged_credits"] == charged > 0
        me = client.get("/api/me").json()
        assert me["credits"] == {"balance": 2000 - charged, "reserved": 0, "available": 2000 - charged}
        with app_env.database.read_session() as session:
            assert find_ledger_violations(session) == []
    finally:
        app.stop()
