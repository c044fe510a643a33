"""Fixtures: the shared fal stand-in (tests/fal_standin_fixtures.py), plus `http`, the client of its routes."""

from __future__ import annotations

import httpx
import pytest

from tests.fal_standin_fixtures import TEST_TIMING, control, gateway, reset_standin, standin  # noqa: F401


@pytest.fixture(scope="session")
def http(control: httpx.Client) -> httpx.Client:
    return control
