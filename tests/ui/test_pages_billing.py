"""The Billing page in the browser: buying a pack through the sandbox Stripe Checkout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import route_pattern, sign_up_in_browser

pytestmark = pytest.mark.browser

CHECKOUT_PAGE = re.compile(r"^http://127\.0\.0\.1:\d+/checkout/")


def test_buy_pack_raises_balance(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    page.goto(f"{app_url}/billing")
    expect(page.locator("#billing-balance")).to_have_text("2,000 credits")
    expect(page.locator(".pack-card")).to_have_count(3)
    expect(page.locator('.ledger-row[data-kind="grant"]')).to_have_count(1)

    page.click("#buy-starter")
    page.wait_for_url(CHECKOUT_PAGE)
    expect(page.locator("#amount")).to_have_text("USD 5.00")
    page.click("#pay")

    page.wait_for_url(route_pattern(app_url, "/billing"))
    assert "checkout=success" in page.url
    expect(page.locator("#checkout-success")).to_contain_text("Payment received, credits added")
    expect(page.locator("#balance")).to_have_text("7,000 credits")
    expect(page.locator("#billing-balance")).to_have_text("7,000 credits")
    expect(page.locator("#billing-available")).to_have_text("7,000 credits")
    expect(page.locator('.ledger-row[data-kind="purchase"]')).to_have_count(1)
    expect(page.locator('.ledger-row[data-kind="purchase"]')).to_contain_text("+5,000")


def test_cancelled_checkout_keeps_balance(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    page.goto(f"{app_url}/billing")
    page.click("#buy-creator")
    page.wait_for_url(CHECKOUT_PAGE)
    page.click("#cancel")

    page.wait_for_url(route_pattern(app_url, "/billing"))
    expect(page.locator("#checkout-cancelled")).to_contain_text("Checkout cancelled")
    expect(page.locator("#balance")).to_have_text("2,000 credits")
    expect(page.locator('.ledger-row[data-kind="purchase"]')).to_have_count(0)


def test_ledger_csv_download(page: Page, app_url: str) -> None:
    sign_up_in_browser(page, app_url)
    page.goto(f"{app_url}/billing")
    expect(page.locator("#ledger-csv")).to_have_attribute("href", f"{app_url}/api/billing/ledger.csv")
    with page.expect_download() as download_info:
        page.click("#ledger-csv")
    download = download_info.value
    with open(download.path(), encoding="utf-8") as file:
        text = file.read()
    assert text.splitlines()[0].startswith("created_at,kind,amount,balance_after")
    assert ",grant,2000,2000," in text
