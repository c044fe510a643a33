from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import sign_up

FLUX_UPSCALE = {
    "nodes": [
        {"id": "prompt", "type": "util/text", "params": {"text": "a red fox in snow"}, "position": {"x": 0, "y": 0}},
        {"id": "flux", "type": "fal-ai/flux/schnell", "params": {"image_size": "square", "seed": 7}, "position": {"x": 300, "y": 0}},
        {"id": "upscale", "type": "fal-ai/clarity-upscaler", "params": {"upscale_factor": 2, "seed": 1}, "position": {"x": 600, "y": 0}},
    ],
    "edges": [
        {"source": "prompt", "source_port": "text", "target": "flux", "target_port": "prompt"},
        {"source": "flux", "source_port": "images", "target": "upscale", "target_port": "image_url"},
    ],
}


def wait_for_run(client: TestClient, headers: dict[str, str], run_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/runs/{run_id}", headers=headers).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


def test_flux_then_upscale_runs_to_the_end(engine_client: TestClient) -> None:
    account = sign_up(engine_client)
    headers = account["headers"]
    created = engine_client.post("/api/workflows", json={"name": "fox", "document": FLUX_UPSCALE}, headers=headers)
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]

    started = engine_client.post(f"/api/workflows/{workflow_id}/run", headers=headers)
    assert started.status_code == 202, started.text
    run = wait_for_run(engine_client, headers, started.json()["run_id"])

    assert run["status"] == "succeeded", [(n["node_id"], n["status"], n["error"]) for n in run["nodes"]]
    nodes = {n["node_id"]: n for n in run["nodes"]}
    assert nodes["upscale"]["status"] == "succeeded"
    # flux yields a list of images, so the upscaler ran as a batch of one and outputs a list.
    assert nodes["upscale"]["outputs"]["image"][0]["asset_id"]
    assert run["charged_credits"] > 0
    me = engine_client.get("/api/me", headers=headers).json()
    assert me["credits"]["reserved"] == 0
    assert me["credits"]["balance"] == 2000 - run["charged_credits"]
