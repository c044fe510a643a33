"""The Assets page in the browser: outputs of a run, lineage, favourite, filters and delete."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import route_pattern, sign_up_in_browser
from tests.ui.pages_support import list_assets, run_flux_upscale

pytestmark = pytest.mark.browser


def _tile(page: Page, asset_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'.gallery-tile[data-asset-id="{asset_id}"]')


def test_gallery_empty_state_for_newcomer(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    page.goto(f"{app_url}/assets")
    expect(page.locator("#gallery-empty")).to_contain_text("Prompt to upscaled image")
    expect(page.locator(".gallery-tile")).to_have_count(0)


def test_gallery_lineage_favourite_delete(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    _workflow_id, run_id = run_flux_upscale(page, app_url, "Gallery flow")
    stored = {asset["endpoint_id"]: asset for asset in list_assets(page, app_url)}
    upscaled = stored["fal-ai/clarity-upscaler"]
    generated = stored["fal-ai/flux/schnell"]

    page.goto(f"{app_url}/assets")
    expect(page.locator(".gallery-tile")).to_have_count(2)
    expect(_tile(page, upscaled["id"]).locator(".gallery-badge-sandbox")).to_be_visible()
    expect(_tile(page, upscaled["id"]).locator("img")).to_have_attribute("loading", "lazy")

    # Lineage of the upscaled image names its endpoint and links its parent, the FLUX image.
    _tile(page, upscaled["id"]).click()
    expect(page.locator("#lightbox")).to_be_visible()
    expect(page.locator("#lightbox-title")).to_have_text("Clarity Upscaler")
    expect(page.locator("#lineage-endpoint")).to_contain_text("fal-ai/clarity-upscaler")
    # The upscaler's own prompt is its default boilerplate, so the FLUX prompt is shown.
    expect(page.locator("#lineage-prompt")).to_contain_text("spider web")
    expect(page.locator("#lightbox-sandbox")).to_be_visible()
    expect(page.locator("#lineage-run")).to_have_attribute("href", f"/runs/{run_id}")
    parents = page.locator("#lineage-parents .lineage-parent")
    expect(parents).to_have_count(1)
    page.locator("#lineage-scroll").evaluate("(panel) => { panel.scrollTop = panel.scrollHeight; }")
    parents.first.click()
    expect(page.locator("#lightbox-title")).to_have_text("FLUX.1 [schnell]")
    expect(page.locator("#lineage-endpoint")).to_contain_text("fal-ai/flux/schnell")
    page.wait_for_function("() => document.getElementById('lineage-scroll').scrollTop === 0")
    expect(page.locator("#lineage-seed")).to_have_text(str(generated["seed"]))
    expect(page.locator("#lightbox-image")).to_have_attribute("src", f"{app_url}/api/assets/{generated['id']}/file")
    expect(page.locator("#lineage-children .lineage-child")).to_have_count(1)
    with page.expect_download() as download_info:
        page.click("#lightbox-download")
    download = download_info.value
    assert download.suggested_filename.endswith((".jpg", ".jpeg", ".png", ".webp"))
    with open(download.path(), "rb") as file:
        assert len(file.read()) == generated["size_bytes"]

    # Favourite the FLUX image, then keep only favourites.
    page.click("#lightbox-favourite")
    expect(page.locator("#lightbox-favourite")).to_have_attribute("data-favourite", "true")
    page.click("#lightbox-close")
    expect(_tile(page, generated["id"]).locator(".gallery-tile-favourite")).to_be_visible()
    page.click("#filter-favourites")
    expect(page.locator(".gallery-tile")).to_have_count(1)
    expect(_tile(page, generated["id"])).to_be_visible()
    page.click("#filter-clear")
    expect(page.locator(".gallery-tile")).to_have_count(2)

    # A prompt search that matches nothing shows the no-match notice.
    page.fill("#filter-text", "no prompt says this")
    expect(page.locator("#gallery-no-match")).to_be_visible()
    expect(page.locator(".gallery-tile")).to_have_count(0)
    page.fill("#filter-text", "spider web")
    expect(page.locator(".gallery-tile")).not_to_have_count(0)
    page.click("#filter-clear")
    expect(page.locator(".gallery-tile")).to_have_count(2)

    # Delete the upscaled image after confirming. It stays gone after a reload.
    _tile(page, upscaled["id"]).click()
    page.click("#lightbox-delete")
    page.click("#lightbox-delete-confirm")
    expect(page.locator(".gallery-tile")).to_have_count(1)
    page.reload()
    page.wait_for_url(route_pattern(app_url, "/assets"))
    expect(page.locator(".gallery-tile")).to_have_count(1)
    expect(_tile(page, generated["id"])).to_be_visible()
    assert [asset["id"] for asset in list_assets(page, app_url)] == [generated["id"]]
    assert [asset["id"] for asset in list_assets(page, app_url, favourite="true")] == [generated["id"]]
