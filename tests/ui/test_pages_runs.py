"""The Runs pages in the browser: history, run detail with per-node state, live rerun."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import route_pattern, sign_up_in_browser
from tests.ui.pages_support import create_workflow, run_flux_upscale, save_document, start_run, wait_for_run

pytestmark = pytest.mark.browser

RUN_TIMEOUT_MS = 60_000
# Items of the long batch: at 4 requests in flight and about 0.75 s each, about 9 s of work,
# so the run is still going when the Cancel button is pressed.
LONG_BATCH_ITEMS = 48


def test_runs_history_and_detail(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    _workflow_id, run_id = run_flux_upscale(page, app_url, "Spider web")

    page.goto(f"{app_url}/runs")
    row = page.locator(".run-row", has_text="Spider web")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "succeeded")
    expect(row).to_contain_text("credits")

    row.locator(".run-link").click()
    page.wait_for_url(route_pattern(app_url, f"/runs/{run_id}"))
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#run-progress")).to_have_text("4 of 4 nodes finished")
    for node_id in ("prompt", "image", "upscale", "result"):
        expect(page.locator(f'.run-node[data-node-id="{node_id}"]')).to_have_attribute("data-status", "succeeded")

    image_node = page.locator('.run-node[data-node-id="image"]')
    expect(image_node).to_contain_text("fal-ai/flux/schnell")
    # Nodes without a label are listed by the catalog title of their type, with the id beside it.
    expect(image_node.locator(".run-node-title")).to_have_text("FLUX.1 [schnell]")
    expect(image_node.locator(".run-node-id")).to_have_text("image")
    expect(image_node.locator(".item-seed")).not_to_have_text("")
    expect(image_node.locator(".run-output")).to_have_count(1)
    expect(page.locator('.run-node[data-node-id="upscale"] .run-output')).to_have_count(1)
    expect(page.locator("#run-cancel")).to_have_count(0)

    # An output preview opens that asset in the gallery's lightbox.
    page.locator('.run-node[data-node-id="upscale"] .run-output').click()
    page.wait_for_url(lambda url: "/assets" in url and "open=" in url)
    expect(page.locator("#lineage-endpoint")).to_contain_text("fal-ai/clarity-upscaler")
    expect(page.locator("#lineage-run")).to_have_attribute("href", f"/runs/{run_id}")


def test_rerun_follows_live(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    _workflow_id, run_id = run_flux_upscale(page, app_url, "Rerun me")

    page.goto(f"{app_url}/runs/{run_id}")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    page.click("#run-rerun")
    page.wait_for_url(lambda url: "/runs/" in url and run_id not in url)
    new_run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert new_run_id != run_id

    # The page is not reloaded: the status reaches "succeeded" through the live follower.
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-activity")).to_contain_text("succeeded")
    expect(page.locator('.run-node[data-node-id="upscale"]')).to_have_attribute("data-status", re.compile("succeeded|reused"))

    page.goto(f"{app_url}/runs")
    expect(page.locator(".run-row", has_text="Rerun me")).to_have_count(2)


def test_cancel_running_run(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    workflow = create_workflow(page, app_url, name="Long batch", template_id="seed-batch")
    document = workflow["document"]
    seeds = next(node for node in document["nodes"] if node["id"] == "seeds")
    seeds["params"]["count"] = LONG_BATCH_ITEMS
    save_document(page, app_url, workflow, document)
    run_id = start_run(page, app_url, workflow["id"])

    page.goto(f"{app_url}/runs/{run_id}")
    expect(page.locator("#run-live")).to_be_visible()
    page.click("#run-cancel")
    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-cancel")).to_have_count(0)
    expect(page.locator('.run-node[data-node-id="images"]')).to_have_attribute("data-status", "cancelled")

    detail = wait_for_run(page, app_url, run_id)
    assert detail["status"] == "cancelled"
    assert detail["charged_credits"] < detail["estimated_credits"]
