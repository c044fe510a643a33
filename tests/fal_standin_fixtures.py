"""Shared fixtures for tests that drive the fal stand-in: one per session on 127.0.0.1, reset after every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from falflow.integrations.fal import FalGateway, FalGatewayConfig
from falflow.sandbox.fal import FalStandinConfig, RunningStandin, Timing, start_fal_standin

# Short simulated timings keep the tests fast while every request still passes through all three states.
TEST_TIMING = Timing(queue_seconds=0.02, run_seconds=0.06, log_count=3)


@pytest.fixture(scope="session")
def standin() -> Iterator[RunningStandin]:
    running = start_fal_standin(FalStandinConfig(timing=TEST_TIMING, max_concurrency=8))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def control(standin: RunningStandin) -> Iterator[httpx.Client]:
    """A plain HTTP client for the stand-in's routes, including the /_sandbox control routes."""
    with httpx.Client(base_url=standin.url, trust_env=False, timeout=30.0) as client:
        yield client


@pytest.fixture(autouse=True)
def reset_standin(control: httpx.Client) -> Iterator[None]:
    yield
    control.post("/_sandbox/reset").raise_for_status()


@pytest_asyncio.fixture
async def gateway(standin: RunningStandin) -> AsyncIterator[FalGateway]:
    async with FalGateway(FalGatewayConfig(sandbox_url=standin.url, poll_interval=0.02)) as client:
        yield client
