"""Set-up shared by the Runs, Assets and Billing browser tests.

The data comes from the real API through the page's own request context, so the requests
carry the session cookie that signing up in the browser set.
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page

RUN_TIMEOUT_SECONDS = 90.0
TERMINAL = {"succeeded", "failed", "cancelled"}


def create_workflow(page: Page, app_url: str, *, name: str, template_id: str) -> dict[str, Any]:
    response = page.request.post(
        f"{app_url}/api/workflows", data={"name": name, "template_id": template_id}, headers={"Origin": app_url}
    )
    assert response.status == 201, response.text()
    return response.json()


def start_run(page: Page, app_url: str, workflow_id: str) -> str:
    response = page.request.post(f"{app_url}/api/workflows/{workflow_id}/run", data={}, headers={"Origin": app_url})
    assert response.status == 202, response.text()
    return str(response.json()["run_id"])


def wait_for_run(page: Page, app_url: str, run_id: str) -> dict[str, Any]:
    """Poll the run until it ends; return its detail."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while True:
        response = page.request.get(f"{app_url}/api/runs/{run_id}")
        assert response.status == 200, response.text()
        detail = response.json()
        if detail["status"] in TERMINAL:
            return detail
        assert time.monotonic() < deadline, f"run {run_id} still {detail['status']} after {RUN_TIMEOUT_SECONDS} s"
        time.sleep(0.5)


def run_flux_upscale(page: Page, app_url: str, name: str) -> tuple[str, str]:
    """Create a workflow from the FLUX → upscale template, run it to success; return (workflow id, run id)."""
    workflow = create_workflow(page, app_url, name=name, template_id="flux-upscale")
    run_id = start_run(page, app_url, workflow["id"])
    detail = wait_for_run(page, app_url, run_id)
    assert detail["status"] == "succeeded", detail
    return str(workflow["id"]), run_id


def list_assets(page: Page, app_url: str, **params: str) -> list[dict[str, Any]]:
    response = page.request.get(f"{app_url}/api/assets", params={"limit": "200", **params})
    assert response.status == 200, response.text()
    return list(response.json()["items"])


def save_document(page: Page, app_url: str, workflow: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    response = page.request.put(
        f"{app_url}/api/workflows/{workflow['id']}", data={"base_version": workflow["version"], "document": document},
        headers={"Origin": app_url},
    )
    assert response.status == 200, response.text()
    return response.json()
