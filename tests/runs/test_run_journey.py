from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import sign_up
from tests.runs.conftest import create_workflow, edge, flux_node, start_run, text_node, wait_for_run

FLUX_UPSCALE = {
    "nodes": [
        text_node("prompt", "a red fox in snow"),
        flux_node("flux", seed=7),
        {"id": "upscale", "type": "fal-ai/clarity-upscaler", "params": {"upscale_factor": 2, "seed": 1}},
    ],
    "edges": [edge("prompt", "text", "flux", "prompt"), edge("flux", "images", "upscale", "image_url")],
}


def test_flux_then_upscale_runs_to_the_end(engine_client: TestClient) -> None:
    account = sign_up(engine_client)
    headers = account["headers"]
    workflow_id = create_workflow(engine_client, headers, FLUX_UPSCALE)

    run = wait_for_run(engine_client, headers, start_run(engine_client, headers, workflow_id))

    assert run["status"] == "succeeded", [(n["node_id"], n["status"], n["error"]) for n in run["nodes"]]
    nodes = {n["node_id"]: n for n in run["nodes"]}
    assert nodes["upscale"]["status"] == "succeeded"
    # flux yields a list of images, so the upscaler ran as a batch of one and outputs a list.
    assert nodes["upscale"]["outputs"]["image"][0]["asset_id"]
    assert run["charged_credits"] > 0
    me = engine_client.get("/api/me", headers=headers).json()
    assert me["credits"]["reserved"] == 0
    assert me["credits"]["balance"] == 2000 - run["charged_credits"]

    upscaled = engine_client.get(f"/api/assets/{nodes['upscale']['outputs']['image'][0]['asset_id']}", headers=headers)
    assert upscaled.status_code == 200
    assert upscaled.json()["width"] == 1024  # square (512 px) upscaled twice
