"""The node editor in the browser: Reflex prod mode, Playwright, and the sandbox fal stand-in."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.ui.conftest import SCREENSHOT_DIR, sign_up_in_browser

RUN_TIMEOUT_MS = 90_000
FLUX = "fal-ai/flux/schnell"
UPSCALER = "fal-ai/clarity-upscaler"
TEMPLATE_PROMPT = "A detailed macro photo of a dew-covered spider web at sunrise"


def _create_workflow(page: Page, app_url: str, name: str, **body: Any) -> dict[str, Any]:
    # The API rejects cookie-authenticated writes without this app's Origin (CSRF protection).
    response = page.request.post(f"{app_url}/api/workflows", data={"name": name, **body}, headers={"Origin": app_url})
    assert response.status == 201, response.text()
    return response.json()


def _read_workflow(page: Page, app_url: str, workflow_id: str) -> dict[str, Any]:
    response = page.request.get(f"{app_url}/api/workflows/{workflow_id}")
    assert response.status == 200, response.text()
    return response.json()


def _node_params(workflow: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(node["params"] for node in workflow["document"]["nodes"] if node["id"] == node_id)


def _open_editor(page: Page, app_url: str, workflow_id: str, version: int = 1) -> None:
    page.goto(f"{app_url}/workflows/{workflow_id}")
    _expect_saved(page, version)
    # The first fit moves the viewport; a drag that starts before it ends can miss its handle.
    expect(page.locator(".ff-canvas")).to_have_attribute("data-view-ready", "true")


def _expect_saved(page: Page, version: int) -> None:
    expect(page.locator("#save-indicator")).to_have_text(f"Saved · v{version}")


def _node(page: Page, node_id: str) -> Locator:
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


def _handle(page: Page, node_id: str, port: str, side: str) -> Locator:
    return page.locator(f'.react-flow__handle.{side}[data-nodeid="{node_id}"][data-handleid="{port}"]')


def _drop_from_palette(page: Page, node_type: str, x: int, y: int) -> None:
    page.fill("#palette-search", node_type)
    item = page.locator(f'.ff-palette-item[data-type="{node_type}"]')
    item.drag_to(page.locator(".react-flow__pane"), target_position={"x": x, "y": y})


def _drag_wire(page: Page, source: Locator, target: Locator) -> None:
    start = source.bounding_box()
    end = target.bounding_box()
    assert start is not None and end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def _expect_status(page: Page, node_id: str, status: str) -> None:
    expect(_node(page, node_id).locator(".ff-node-header .ff-status")).to_have_attribute(
        "data-status", status, timeout=RUN_TIMEOUT_MS
    )


def _expect_image_preview(page: Page, node_id: str) -> None:
    preview = _node(page, node_id).locator("img.ff-preview").first
    expect(preview).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=preview.element_handle())


def _save_screenshot(page: Page, name: str) -> None:
    """Save an extra screenshot once CSS animations (dialogs fading in) have finished."""
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"))


def _latest_run(page: Page, app_url: str, workflow_id: str) -> dict[str, Any]:
    response = page.request.get(f"{app_url}/api/runs?workflow_id={workflow_id}&limit=1")
    assert response.status == 200, response.text()
    runs = response.json()
    assert runs, "the workflow has no run"
    return runs[0]


def test_build_flux_upscale_and_run(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    workflow = _create_workflow(page, app_url, "Built by hand")
    _open_editor(page, app_url, workflow["id"])
    expect(page.locator(".ff-empty")).to_be_visible()
    expect(page.locator("#palette-search")).to_have_attribute("placeholder", "Search nodes…")
    # Only the toolbar's fit-view button; React Flow's own control is hidden.
    expect(page.locator("#fit-view-button")).to_have_count(1)
    expect(page.locator(".react-flow__controls-fitview")).to_have_count(0)

    _drop_from_palette(page, "util/text", 20, 30)
    expect(_node(page, "text-1")).to_be_visible()
    _node(page, "text-1").locator('textarea[data-param="text"]').fill("A lighthouse in a storm, oil painting")
    _drop_from_palette(page, FLUX, 340, 30)
    _drop_from_palette(page, UPSCALER, 20, 300)
    expect(_node(page, "schnell-1")).to_be_visible()
    expect(_node(page, "clarity-upscaler-1")).to_be_visible()
    _expect_saved(page, 5)
    expect(page.locator("#run-button")).to_be_disabled()
    expect(page.locator("#run-block-reason")).to_contain_text("Fix 2 problems first.")
    expect(_node(page, "schnell-1").locator(".ff-node")).to_have_class(re.compile(r"ff-node-problem"))
    expect(_node(page, "schnell-1").locator('[data-row="prompt"] .ff-field-problem')).to_be_visible()
    expect(page.locator("#problems-list .problem-item")).to_have_count(2)

    _drag_wire(page, _handle(page, "text-1", "text", "source"), _handle(page, "schnell-1", "prompt", "target"))
    _drag_wire(page, _handle(page, "schnell-1", "images", "source"), _handle(page, "clarity-upscaler-1", "image_url", "target"))
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    _expect_saved(page, 7)
    expect(page.locator("#problem-count")).to_have_text("0")

    saved = _read_workflow(page, app_url, workflow["id"])
    wires = sorted((e["source"], e["source_port"], e["target"], e["target_port"]) for e in saved["document"]["edges"])
    assert wires == [("schnell-1", "images", "clarity-upscaler-1", "image_url"), ("text-1", "text", "schnell-1", "prompt")]
    assert _node_params(saved, "text-1") == {"text": "A lighthouse in a storm, oil painting"}

    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Enter")
    for node_id in ("text-1", "schnell-1", "clarity-upscaler-1"):
        _expect_status(page, node_id, "succeeded")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    _expect_image_preview(page, "schnell-1")
    _expect_image_preview(page, "clarity-upscaler-1")
    assert _latest_run(page, app_url, workflow["id"])["status"] == "succeeded"

    # The Run panel lists the outputs; a node preview opens the output dialog.
    expect(page.locator("#run-outputs .run-output")).to_have_count(2)
    preview = _node(page, "clarity-upscaler-1").locator(".ff-preview-button").first
    asset_id = preview.get_attribute("data-asset-id")
    preview.click()
    expect(page.locator("#output-dialog #lightbox-image")).to_have_attribute("src", f"{app_url}/api/assets/{asset_id}/file")
    expect(page.locator("#output-dialog-gallery")).to_have_attribute("href", f"/assets?open={asset_id}")
    _save_screenshot(page, "test_build_flux_upscale_and_run-output-dialog")


def test_incompatible_connection_refused(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    document = {"nodes": [
        {"id": "words", "type": "util/text", "params": {"text": "hello"}, "position": {"x": 0, "y": 0}},
        {"id": "upscale", "type": UPSCALER, "position": {"x": 360, "y": 0}},
    ], "edges": []}
    workflow = _create_workflow(page, app_url, "Wrong wire", document=document)
    _open_editor(page, app_url, workflow["id"])

    _drag_wire(page, _handle(page, "words", "text", "source"), _handle(page, "upscale", "image_url", "target"))

    expect(page.locator("#canvas-flash")).to_contain_text("Connection refused: a text output cannot feed a image input")
    expect(page.locator(".react-flow__edge")).to_have_count(0)
    _expect_saved(page, 1)
    saved = _read_workflow(page, app_url, workflow["id"])
    assert saved["version"] == 1
    assert saved["document"]["edges"] == []

    # A node drag that ends over the side panel selects no page text.
    title = _node(page, "upscale").locator(".ff-title").bounding_box()
    panel = page.locator("#side-panel").bounding_box()
    assert title is not None and panel is not None
    page.mouse.move(title["x"] + 20, title["y"] + title["height"] / 2)
    page.mouse.down()
    page.mouse.move(title["x"] + 60, title["y"] + 40, steps=5)
    assert page.evaluate("() => document.body.classList.contains('ff-dragging')")
    page.mouse.move(panel["x"] + panel["width"] / 2, panel["y"] + panel["height"] - 20, steps=12)
    page.mouse.up()
    assert page.evaluate("() => window.getSelection().toString()") == ""
    assert not page.evaluate("() => document.body.classList.contains('ff-dragging')")


def test_stale_tab_gets_conflict(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    workflow = _create_workflow(page, app_url, "Two tabs", template_id="flux-upscale")
    stale = page
    _open_editor(stale, app_url, workflow["id"])
    fresh = page.context.new_page()
    _open_editor(fresh, app_url, workflow["id"])

    fresh_prompt = _node(fresh, "prompt").locator('textarea[data-param="text"]')
    fresh_prompt.fill("Changed in the fresh tab")
    _expect_saved(fresh, 2)
    _node(stale, "prompt").locator('textarea[data-param="text"]').fill("Changed in the stale tab")

    message = stale.locator("#conflict-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("This workflow was changed in another tab or by the API (now version 2)")
    expect(message).to_contain_text("your unsaved change is kept in the editor until you choose")
    expect(stale.locator("#conflict-overwrite")).to_be_visible()
    _save_screenshot(stale, "test_stale_tab_gets_conflict-dialog")
    saved = _read_workflow(stale, app_url, workflow["id"])
    assert saved["version"] == 2
    assert _node_params(saved, "prompt")["text"] == "Changed in the fresh tab"

    stale_prompt = _node(stale, "prompt").locator('textarea[data-param="text"]')
    stale.click("#conflict-reload")
    _expect_saved(stale, 2)
    expect(stale_prompt).to_have_value("Changed in the fresh tab")

    fresh_prompt.fill("Second change in the fresh tab")
    _expect_saved(fresh, 3)
    stale_prompt.fill("Keep the stale tab's text")
    expect(stale.locator("#conflict-message")).to_contain_text("(now version 3)")
    stale.click("#conflict-overwrite")
    _expect_saved(stale, 4)
    saved = _read_workflow(stale, app_url, workflow["id"])
    assert saved["version"] == 4
    assert _node_params(saved, "prompt")["text"] == "Keep the stale tab's text"
    fresh.close()


def _batch_document(count: int) -> dict[str, Any]:
    """A text list of `count` prompts feeding FLUX.1 [schnell]: one fal request per item."""
    items = [f"A paper boat number {index}" for index in range(count)]
    return {"nodes": [
        {"id": "prompts", "type": "util/text-list", "params": {"items": items}, "position": {"x": 0, "y": 0}},
        {"id": "images", "type": FLUX, "params": {"image_size": "square"}, "position": {"x": 360, "y": 0}},
    ], "edges": [{"source": "prompts", "source_port": "items", "target": "images", "target_port": "prompt"}]}


def test_reload_mid_run_catches_up(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    workflow = _create_workflow(page, app_url, "Many boats", document=_batch_document(24))
    _open_editor(page, app_url, workflow["id"])

    page.click("#run-button")
    expect(_node(page, "images").locator(".ff-batch")).to_contain_text("/24 items", timeout=RUN_TIMEOUT_MS)
    assert _latest_run(page, app_url, workflow["id"])["status"] in ("queued", "running")
    page.reload()

    _expect_status(page, "images", "succeeded")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    expect(_node(page, "images").locator(".ff-batch")).to_have_text("24/24 items")
    _expect_image_preview(page, "images")


def test_cancel_stops_run(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    workflow = _create_workflow(page, app_url, "Cancelled boats", document=_batch_document(40))
    _open_editor(page, app_url, workflow["id"])
    watcher = page.context.new_page()
    _open_editor(watcher, app_url, workflow["id"])

    page.click("#run-button")
    expect(_node(page, "images").locator(".ff-batch")).to_contain_text("/40 items", timeout=RUN_TIMEOUT_MS)
    expect(_node(watcher, "images").locator(".ff-batch")).to_contain_text("/40 items", timeout=RUN_TIMEOUT_MS)
    page.click("#cancel-button")

    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=RUN_TIMEOUT_MS)
    expect(watcher.locator("#run-status")).to_have_text("cancelled", timeout=RUN_TIMEOUT_MS)
    watcher.close()
    _expect_status(page, "images", "cancelled")
    expect(page.locator("#run-button")).to_be_enabled()
    run = _latest_run(page, app_url, workflow["id"])
    assert run["status"] == "cancelled"
    assert run["charged_credits"] < run["estimated_credits"]


def test_unknown_workflow_shows_notice(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    page.goto(f"{app_url}/workflows/00000000-0000-4000-8000-000000000000")
    expect(page.locator("#editor-missing")).to_contain_text("was not found")
    expect(page.locator("#flow-editor")).to_have_count(0)


def test_short_credits_show_payment_message(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    document = {"nodes": [
        {"id": "idea", "type": "util/text", "params": {"text": "A fox running through snow"}, "position": {"x": 0, "y": 0}},
        {"id": "clip", "type": "fal-ai/veo3.1", "params": {"duration": "8s"}, "position": {"x": 360, "y": 0}},
    ], "edges": [{"source": "idea", "source_port": "text", "target": "clip", "target_port": "prompt"}]}
    workflow = _create_workflow(page, app_url, "Too expensive", document=document)
    _open_editor(page, app_url, workflow["id"])
    expect(page.locator("#run-button")).to_contain_text("3,200 credits ($3.200)")
    expect(page.locator("#credit-shortfall")).to_have_text("Needs 3,200 credits; you have 2,000 — Buy credits")
    expect(page.locator("#shortfall-buy-link")).to_have_attribute("href", "/billing")
    expect(page.locator("#run-button")).to_be_enabled()

    page.click("#run-button")

    expect(page.locator("#payment-message")).to_have_text(
        "This run needs 3,200 credits, but only 2,000 are available. Nothing was charged."
    )
    expect(page.locator("#payment-advice")).to_contain_text("reduce durations, counts or sizes")
    expect(page.locator("#buy-credits-link")).to_have_attribute("href", "/billing")
    response = page.request.get(f"{app_url}/api/runs?workflow_id={workflow['id']}")
    assert response.json() == []


def test_undo_after_reload(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    workflow = _create_workflow(page, app_url, "Undo me", template_id="flux-upscale")
    _open_editor(page, app_url, workflow["id"])
    prompt = _node(page, "prompt").locator('textarea[data-param="text"]')
    prompt.fill("A version I will regret")
    _expect_saved(page, 2)
    page.click("#palette-toggle")
    page.click("#side-panel-toggle")
    expect(page.locator("#palette-search")).to_have_count(0)
    expect(page.locator("#side-panel-rail")).to_be_visible()

    page.reload()
    _expect_saved(page, 2)
    # Both panels stay collapsed after the reload (localStorage), and open again.
    expect(page.locator("#flow-editor")).to_have_class(re.compile(r"ff-palette-collapsed"))
    expect(page.locator("#side-panel-rail")).to_be_visible()
    page.click("#palette-toggle")
    page.click("#side-panel-toggle")
    expect(page.locator("#palette-search")).to_be_visible()
    expect(page.locator("#side-panel")).to_be_visible()
    expect(prompt).to_have_value("A version I will regret")
    page.locator(".react-flow__pane").click(position={"x": 10, "y": 10})
    page.keyboard.press("Control+z")

    expect(prompt).to_have_value(TEMPLATE_PROMPT)
    _expect_saved(page, 3)
    assert _node_params(_read_workflow(page, app_url, workflow["id"]), "prompt")["text"] == TEMPLATE_PROMPT

    page.keyboard.press("Control+Shift+z")
    expect(prompt).to_have_value("A version I will regret")
    _expect_saved(page, 4)


def test_run_up_to_then_from_node_reuses(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    workflow = _create_workflow(page, app_url, "Partial runs", template_id="flux-upscale")
    _open_editor(page, app_url, workflow["id"])

    _node(page, "image").locator(".ff-title").click(button="right")
    page.click('.ff-menu-item[data-action="run-up-to"]')
    _expect_status(page, "image", "succeeded")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    expect(_node(page, "upscale").locator(".ff-status")).to_have_count(0)

    _node(page, "upscale").locator(".ff-menu-button").click()
    page.click('.ff-menu-item[data-action="run-from"]')
    _expect_status(page, "upscale", "succeeded")
    _expect_status(page, "image", "reused")
    _expect_image_preview(page, "image")
    run = _latest_run(page, app_url, workflow["id"])
    assert run["options"]["start_from"] == "upscale"


def test_keyboard_editing_rename_and_export(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    workflow = _create_workflow(page, app_url, "Shortcuts", template_id="flux-upscale")
    _open_editor(page, app_url, workflow["id"])

    _node(page, "prompt").locator(".ff-title").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(_node(page, "text-1")).to_be_visible()
    _expect_saved(page, 2)
    _node(page, "text-1").locator(".ff-title").click()
    page.keyboard.press("Delete")
    expect(_node(page, "text-1")).to_have_count(0)
    _expect_saved(page, 3)

    page.click("#workflow-name")
    page.fill("#workflow-name-input", "Renamed inline")
    page.keyboard.press("Enter")
    expect(page.locator("#workflow-name")).to_have_text("Renamed inline")
    _expect_saved(page, 4)
    saved = _read_workflow(page, app_url, workflow["id"])
    assert saved["name"] == "Renamed inline"
    assert sorted(node["id"] for node in saved["document"]["nodes"]) == ["image", "prompt", "result", "upscale"]

    page.click("#export-button")
    link = page.locator("#export-falflow")
    expect(link).to_have_attribute("download", "renamed-inline.falflow.json")
    exported = page.request.get(link.get_attribute("href") or "")
    assert exported.status == 200
    assert exported.json()["format"] == "falflow"
