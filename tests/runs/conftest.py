"""Fixtures for run tests: the API with the real run engine, against a fal stand-in on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from falflow.context import AppContext, get_context, reset_context
from falflow.sandbox.fal import FalStandinConfig, RunningStandin, Timing, start_fal_standin

# Short simulated timings keep the suite fast while still letting nodes overlap measurably.
FAST_TIMING = Timing(queue_seconds=0.05, run_seconds=0.3, log_count=3)


@pytest.fixture
def fal_standin() -> Iterator[RunningStandin]:
    standin = start_fal_standin(FalStandinConfig(timing=FAST_TIMING, max_concurrency=16))
    try:
        yield standin
    finally:
        standin.stop()


def configure_standin(standin: RunningStandin, **changes: Any) -> None:
    """Replace the stand-in's configuration (faults, timing) through its control API."""
    config = FalStandinConfig(**{"timing": FAST_TIMING, "max_concurrency": 16, **changes})
    response = httpx.put(f"{standin.url}/_sandbox/config", json=config.model_dump(mode="json"), timeout=10)
    response.raise_for_status()


def standin_requests(standin: RunningStandin) -> list[dict[str, Any]]:
    return httpx.get(f"{standin.url}/_sandbox/requests", timeout=10).json()["requests"]


def reset_engine_schema(database_url: str) -> None:
    """Drop the run engine's PostgreSQL schema so no earlier test's workflows are recovered."""
    if database_url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS dbos CASCADE"))
    engine.dispose()


@pytest.fixture
def engine_env(app_env: AppContext, fal_standin: RunningStandin, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    reset_engine_schema(app_env.settings.resolved_database_url)
    monkeypatch.setenv("FALFLOW_SANDBOX_FAL_URL", fal_standin.url)
    monkeypatch.setenv("FALFLOW_FAL_POLL_INTERVAL_SECONDS", "0.05")
    monkeypatch.setenv("FALFLOW_RUN_RETRY_BASE_SECONDS", "0.05")
    reset_context()
    return get_context()


@pytest.fixture
def engine_client(engine_env: AppContext) -> Iterator[TestClient]:
    """The API app with its lifespan (the DBOS run engine), over in-process HTTP."""
    from falflow.api import create_standalone_app

    with TestClient(create_standalone_app(), base_url="http://localhost:3000", raise_server_exceptions=False) as client:
        yield client


def wait_for_run(client: TestClient, headers: dict[str, str], run_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/runs/{run_id}", headers=headers).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


def create_workflow(client: TestClient, headers: dict[str, str], document: dict[str, Any], name: str = "test") -> str:
    response = client.post("/api/workflows", json={"name": name, "document": document}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def start_run(client: TestClient, headers: dict[str, str], workflow_id: str, **options: Any) -> str:
    response = client.post(f"/api/workflows/{workflow_id}/run", json=options or None, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["run_id"])


def text_node(node_id: str, text: str) -> dict[str, Any]:
    return {"id": node_id, "type": "util/text", "params": {"text": text}}


def flux_node(node_id: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "fal-ai/flux/schnell", "params": {"image_size": "square", **params}}


def edge(source: str, source_port: str, target: str, target_port: str) -> dict[str, str]:
    return {"source": source, "source_port": source_port, "target": target, "target_port": target_port}
