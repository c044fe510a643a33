"""Sign-up, workflow creation and log-out in the browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.ui.conftest import route_pattern, sign_up_in_browser


def test_signup_create_workflow_listed(page: Page, app_url: str) -> None:
    email = sign_up_in_browser(page, app_url)
    expect(page.get_by_text(email)).to_be_visible()
    expect(page.locator("#balance")).to_contain_text("2,000 credits")

    page.fill("#new-workflow-name", "My first flow")
    page.click("#create-workflow")
    page.wait_for_url(f"{app_url}/workflows/*-*")
    page.goto(f"{app_url}/workflows")
    expect(page.locator(".workflow-name", has_text="My first flow")).to_be_visible()


def test_protected_page_redirects_to_login(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/workflows")
    page.wait_for_url(route_pattern(app_url, "/login"))
    expect(page.locator("#auth-submit")).to_be_visible()


def test_wrong_password_shows_error(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/login")
    page.fill("#email", "nobody@example.com")
    page.fill("#password", "definitely wrong")
    page.click("#auth-submit")
    expect(page.locator("#auth-error")).to_contain_text("E-mail or password is wrong")


def test_foreign_origin_gets_no_cors_grant(app_url: str) -> None:
    import httpx

    preflight = httpx.options(
        f"{app_url}/api/workflows",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    own = httpx.options(
        f"{app_url}/api/workflows", headers={"Origin": app_url, "Access-Control-Request-Method": "POST"}
    )
    assert own.headers.get("access-control-allow-origin") == app_url


def test_pages_carry_no_reflex_badge(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/login")
    expect(page.locator("#auth-submit")).to_be_visible()
    assert "Built with Reflex" not in page.content()
