"""The workflows list: importing pasted JSON."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.ui.conftest import sign_up_in_browser

EXPORT = {
    "format": "falflow",
    "name": "Imported fox",
    "document": {
        "nodes": [
            {"id": "prompt", "type": "util/text", "params": {"text": "a fox"}, "position": {"x": 0, "y": 0}},
            {"id": "flux", "type": "fal-ai/flux/schnell", "params": {"image_size": "square"}, "position": {"x": 320, "y": 0}},
        ],
        "edges": [{"source": "prompt", "source_port": "text", "target": "flux", "target_port": "prompt"}],
    },
}


def test_import_pasted_export_opens_editor(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    page.click("#import-open")
    page.fill("#import-json", json.dumps(EXPORT))
    page.click("#import-submit")
    page.wait_for_url(f"{app_url}/workflows/*-*")
    expect(page.locator('.react-flow__node[data-id="flux"]')).to_be_visible(timeout=30_000)
    listed = page.request.get(f"{app_url}/api/workflows").json()
    assert [w["name"] for w in listed] == ["Imported fox"]
    assert listed[0]["node_count"] == 2


def test_import_invalid_json_shows_error(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    page.click("#import-open")
    page.fill("#import-json", "{not json")
    page.click("#import-submit")
    expect(page.get_by_text("not valid JSON")).to_be_visible()
