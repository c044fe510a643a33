"""QueueSimulator in-process: record pruning and the effect of max_concurrency."""

from __future__ import annotations

import asyncio

import pytest

from falflow.sandbox.fal import FalStandinConfig, Timing
from falflow.sandbox.fal import simulator as simulator_module
from falflow.sandbox.fal.catalog import load_catalog
from falflow.sandbox.fal.records import QueueState
from falflow.sandbox.fal.simulator import QueueSimulator
from falflow.sandbox.fal.store import FileStore

FLUX = load_catalog()["fal-ai/flux/schnell"]
INSTANT = FalStandinConfig(timing=Timing(queue_seconds=0, run_seconds=0, log_count=0), time_scale=0)


async def settle(simulator: QueueSimulator) -> None:
    tasks = [record.task for record in simulator.records() if record.task is not None]
    await asyncio.gather(*tasks)


@pytest.mark.asyncio
async def test_oldest_completed_records_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulator_module, "MAX_RECORDS", 3)
    simulator = QueueSimulator(FileStore(10_000_000), lambda: INSTANT)
    first = [
        simulator.submit(FLUX, {"prompt": f"p{index}", "image_size": "square"}, base_url="http://x")
        for index in range(3)
    ]
    await settle(simulator)

    latest = simulator.submit(FLUX, {"prompt": "latest", "image_size": "square"}, base_url="http://x")
    await settle(simulator)

    kept = [record.request_id for record in simulator.records()]
    assert kept == [first[1].request_id, first[2].request_id, latest.request_id]
    assert simulator.get(first[0].request_id) is None


@pytest.mark.asyncio
async def test_concurrency_limit_queues_requests() -> None:
    config = FalStandinConfig(timing=Timing(queue_seconds=0, run_seconds=10, log_count=0), max_concurrency=2)
    simulator = QueueSimulator(FileStore(10_000_000), lambda: config)
    records = [simulator.submit(FLUX, {"prompt": f"p{index}"}, base_url="http://x") for index in range(3)]
    for _ in range(100):
        if sum(record.state is QueueState.IN_PROGRESS for record in records) == 2:
            break
        await asyncio.sleep(0.01)

    states = [record.state for record in records]
    position = simulator.queue_position(records[2])
    await simulator.shutdown()

    assert states == [QueueState.IN_PROGRESS, QueueState.IN_PROGRESS, QueueState.IN_QUEUE]
    assert position == 0
    assert all(record.is_completed for record in records)
