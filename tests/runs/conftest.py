"""Fixtures for run tests: the API with the real run engine and the fal stand-in, in process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from falflow.context import AppContext


@pytest.fixture
def engine_client(app_env: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The API app with its lifespan: an embedded fal stand-in (10x faster than default) and DBOS."""
    from falflow.api import create_standalone_app

    monkeypatch.setenv("FALFLOW_SANDBOX_FAL_TIME_SCALE", "0.1")
    app_env.settings.__dict__["sandbox_fal_time_scale"] = 0.1
    with TestClient(create_standalone_app(), base_url="http://localhost:3000", raise_server_exceptions=False) as client:
        yield client
