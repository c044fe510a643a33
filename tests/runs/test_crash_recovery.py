"""`kill -9` of the app process mid-run, then a restart: the run resumes without a second submission.

The app and the fal stand-in run as real subprocesses here, so the kill is a real SIGKILL.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from falflow.billing.ledger import find_ledger_violations
from falflow.context import AppContext
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def standin_process() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "falflow.sandbox.fal", "--port", "0", "--queue-seconds", "0", "--run-seconds", "1.5",
         "--log-count", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, f"the stand-in did not report its URL: {line!r}"
    try:
        yield match.group(0)
    finally:
        process.kill()
        process.wait(10)


class AppProcess:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "falflow.serve_api", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/nodes", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"the app did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _run(client: httpx.Client, run_id: str) -> dict[str, Any]:
    return client.get(f"/api/runs/{run_id}").json()


def test_sigkill_mid_run_resumes_without_resubmitting(
    app_env: AppContext, standin_process: str, tmp_path: Path
) -> None:
    database_url = app_env.settings.resolved_database_url
    reset_engine_schema(database_url)
    env = {key: value for key, value in os.environ.items() if not key.startswith("FALFLOW_")}
    env.update({
        "FALFLOW_DATABASE_URL": database_url,
        "FALFLOW_DATA_DIR": str(app_env.settings.data_dir),
        "FALFLOW_JWT_SECRET": app_env.settings.jwt_secret.get_secret_value() if app_env.settings.jwt_secret else "",
        "FALFLOW_SANDBOX_FAL_URL": standin_process,
        "FALFLOW_FAL_POLL_INTERVAL_SECONDS": "0.05",
        "FALFLOW_LOG_JSON": "false",
    })
    app = AppProcess(env, _free_port(), tmp_path / "app.log")
    app.start()
    try:
        client = httpx.Client(base_url=app.url, timeout=30)
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
