"""Fixtures shared by the whole suite.

The database is real: SQLite in a temporary folder, or the PostgreSQL server named by
FALFLOW_TEST_DATABASE_URL. Alembic migrations build the schema once per session; each test
starts from empty tables.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from falflow.context import AppContext, get_context, reset_context
from falflow.kit.migrations import upgrade_database
from falflow.models import metadata

TEST_JWT_SECRET = "test-secret-" + "x" * 40


def _postgres_url() -> str | None:
    return os.environ.get("FALFLOW_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _postgres_url()
    if url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
            connection.execute(text("DROP SCHEMA IF EXISTS dbos CASCADE"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'falflow-test.sqlite'}"
    upgrade_database(url)
    return url


def _truncate_all(context: AppContext) -> None:
    with context.database.write_session() as session:
        for table in reversed(metadata.sorted_tables):
            session.execute(table.delete())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def app_env(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """Point falflow's settings at the test database and a fresh data folder."""
    for name in list(os.environ):
        if name.startswith("FALFLOW_") and name != "FALFLOW_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    for name in ("FAL_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FALFLOW_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FALFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("FALFLOW_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("FALFLOW_LOG_JSON", "false")
    # The test process starts the app many times; freezing would keep each start's objects forever.
    monkeypatch.setenv("FALFLOW_GC_FREEZE", "false")
    reset_context()
    context = get_context()
    _truncate_all(context)
    yield context
    reset_context()


@pytest.fixture
def client(app_env: AppContext) -> Iterator[TestClient]:
    """The real API app, mounted at /api exactly as in production, over in-process HTTP."""
    from falflow.api import mount_api

    with TestClient(mount_api(), base_url="http://localhost:3000", raise_server_exceptions=False) as test_client:
        yield test_client


def sign_up(client: TestClient, email: str | None = None, password: str = "correct horse battery") -> dict[str, Any]:
    """Create an account through the API; return the token response plus auth headers."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = client.post("/api/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    body = response.json()
    body["headers"] = {"Authorization": f"Bearer {body['access_token']}"}
    body["email"] = email
    body["password"] = password
    client.cookies.clear()
    return body


@pytest.fixture
def user(client: TestClient) -> dict[str, Any]:
    return sign_up(client)


@pytest.fixture
def other_user(client: TestClient) -> dict[str, Any]:
    return sign_up(client)


# Browser fixtures, shared by tests/ui and tests/scale: one Playwright instance per session.
# NOTE: the sync Playwright instance keeps an event loop alive in the main thread, so asyncio
# tests (pytest-asyncio) must not run after the first browser test; pytest's alphabetical
# order keeps them before tests/scale and tests/ui, and scale tests skip before asking for it.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[1] / "test-results" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context at 1280x800; the page is saved as a screenshot when the test ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):
        tab.screenshot(path=str(SCREENSHOT_DIR / f"{request.node.name}.png"))
    context.close()
