"""Temporary: run the gallery and runs browser tests with an Origin header on API writes."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.ui import test_pages_gallery, test_pages_runs


def test_gallery_with_origin(page: Page, app_url: str) -> None:
    page.context.set_extra_http_headers({"Origin": app_url})
    test_pages_gallery.test_gallery_lineage_favourite_delete(page, app_url)


def test_runs_with_origin(page: Page, app_url: str) -> None:
    page.context.set_extra_http_headers({"Origin": app_url})
    test_pages_runs.test_runs_history_and_detail(page, app_url)
