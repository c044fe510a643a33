"""FalGateway follows requests over fal's status stream and polls when the stream fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from falflow.integrations.fal import FalGateway, FalGatewayConfig, FalLog, FalRequestState, FalStatus
from falflow.integrations.fal import client as fal_client_module
from falflow.integrations.fal.client import _ChangeFilter, _sse_data
from falflow.sandbox.fal import RunningStandin

FLUX = "fal-ai/flux/dev"
ARGUMENTS = {"prompt": "a paper boat", "image_size": {"width": 160, "height": 120}, "seed": 5}


@pytest_asyncio.fixture
async def streaming(standin: RunningStandin) -> AsyncIterator[FalGateway]:
    config = FalGatewayConfig(sandbox_url=standin.url, poll_interval=0.02, status_stream=True)
    async with FalGateway(config) as gateway:
        yield gateway


def slow_down(control: httpx.Client, *, log_count: int) -> None:
    timing = {"queue_seconds": 0.05, "run_seconds": 0.3, "log_count": log_count}
    control.put(f"/_sandbox/endpoints/{FLUX}", json={"timing": timing}).raise_for_status()


def served(control: httpx.Client, request_id: str) -> dict[str, Any]:
    (record,) = [r for r in control.get("/_sandbox/requests").json()["requests"] if r["request_id"] == request_id]
    return dict(record)


async def follow(gateway: FalGateway, request_id: str, logs_seen: int = 0) -> list[FalStatus]:
    return [status async for status in gateway.watch(FLUX, request_id, logs_seen=logs_seen)]


@pytest.mark.asyncio
async def test_watch_reads_the_stream(streaming: FalGateway, control: httpx.Client) -> None:
    slow_down(control, log_count=4)
    submitted = await streaming.submit(FLUX, ARGUMENTS)

    statuses = await follow(streaming, submitted.request_id)
    output = await streaming.result(FLUX, submitted.request_id, completed=True)

    assert statuses[-1].state is FalRequestState.COMPLETED
    assert [s.state for s in statuses].count(FalRequestState.COMPLETED) == 1
    messages = [log.message for status in statuses for log in status.logs]
    assert messages[-4:] == ["step 1/4", "step 2/4", "step 3/4", "step 4/4"]
    assert len(messages) == len(set(messages))
    assert statuses[-1].logs_seen == len(messages)
    assert output["images"]
    record = served(control, submitted.request_id)
    assert record["status_streams"] == 1
    assert record["status_polls"] == 0


@pytest.mark.asyncio
async def test_rejected_stream_falls_back_to_polls(streaming: FalGateway, control: httpx.Client) -> None:
    slow_down(control, log_count=3)
    control.put(f"/_sandbox/endpoints/{FLUX}", json={"faults": {"rate_limit_status": 1, "retry_after_seconds": 0}})
    submitted = await streaming.submit(FLUX, ARGUMENTS)

    statuses = await follow(streaming, submitted.request_id)

    assert statuses[-1].state is FalRequestState.COMPLETED
    messages = [log.message for status in statuses for log in status.logs]
    assert messages[-3:] == ["step 1/3", "step 2/3", "step 3/3"]
    assert len(messages) == len(set(messages))
    record = served(control, submitted.request_id)
    assert record["status_streams"] == 0
    assert record["status_polls"] >= 1


@pytest.mark.asyncio
async def test_resumed_watch_polls_new_lines(streaming: FalGateway, control: httpx.Client) -> None:
    """A watch resumed with `logs_seen` polls, because a stream opened late may not repeat old lines."""
    slow_down(control, log_count=3)
    submitted = await streaming.submit(FLUX, ARGUMENTS)
    first = await follow(streaming, submitted.request_id)
    seen = first[-1].logs_seen

    again = await follow(streaming, submitted.request_id, logs_seen=seen - 1)

    assert len(again) == 1
    assert [log.message for log in again[0].logs] == ["step 3/3"]
    record = served(control, submitted.request_id)
    assert record["status_streams"] == 1
    assert record["status_polls"] == 1


def status(state: FalRequestState, *messages: str) -> FalStatus:
    logs = [FalLog(message=message, level="INFO", timestamp=None) for message in messages]
    return FalStatus(FLUX, "r1", state, logs=logs)


@pytest.mark.parametrize(
    "events",
    [
        [("a", "b"), ("c",), ("d", "e")],  # each event carries only new lines, as fal's stream does
        [("a", "b"), ("a", "b", "c"), ("a", "b", "c", "d", "e")],  # each event repeats every line
    ],
)
def test_stream_events_yield_each_line_once(events: list[tuple[str, ...]]) -> None:
    changes = _ChangeFilter(0)
    yielded = [changes.take_event(status(FalRequestState.IN_PROGRESS, *lines)) for lines in events]

    messages = [log.message for change in yielded if change is not None for log in change.logs]
    assert messages == ["a", "b", "c", "d", "e"]
    assert yielded[-1] is not None
    assert yielded[-1].logs_seen == 5
    polled = changes.take_snapshot(status(FalRequestState.COMPLETED, "a", "b", "c", "d", "e", "f"))
    assert polled is not None
    assert [log.message for log in polled.logs] == ["f"]


@pytest.mark.asyncio
async def test_result_without_poll(gateway: FalGateway, control: httpx.Client) -> None:
    """`completed=True` fetches the output at once; fal-client's own `get` polls the status first."""
    submitted = await gateway.submit(FLUX, ARGUMENTS)
    await follow(gateway, submitted.request_id)
    polls = served(control, submitted.request_id)["status_polls"]

    await gateway.result(FLUX, submitted.request_id, completed=True)
    assert served(control, submitted.request_id)["status_polls"] == polls
    await gateway.result(FLUX, submitted.request_id)
    assert served(control, submitted.request_id)["status_polls"] == polls + 1


async def lines(*values: str) -> AsyncIterator[str]:
    for value in values:
        yield value


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["data: {\"a\": 1}", "", "data: {\"b\": 2}", ""], ['{"a": 1}', '{"b": 2}']),
        ([": ping", "", "data: x", ""], ["x"]),
        (["data: first", "data: second", ""], ["first\nsecond"]),
        (["data:no-space", "data: last"], ["no-space\nlast"]),
        (["event: status", "id: 4", "data: y", ""], ["y"]),
    ],
)
async def test_sse_data_lines(raw: list[str], expected: list[str]) -> None:
    assert [data async for data in _sse_data(lines(*raw))] == expected


@pytest.mark.asyncio
async def test_silent_stream_falls_back_to_polls(standin: RunningStandin, control: httpx.Client) -> None:
    """A stream that sends nothing for `stream_idle_timeout` is dropped; polls then see the cancellation."""
    control.put(f"/_sandbox/endpoints/{FLUX}", json={"faults": {"hang": True}}).raise_for_status()
    config = FalGatewayConfig(sandbox_url=standin.url, poll_interval=0.02, status_stream=True, stream_idle_timeout=0.3)
    async with FalGateway(config) as gateway:
        submitted = await gateway.submit(FLUX, ARGUMENTS)
        watching = asyncio.create_task(follow(gateway, submitted.request_id))
        for _ in range(200):
            if served(control, submitted.request_id)["status_polls"] > 0:
                break
            await asyncio.sleep(0.05)
        await gateway.cancel(FLUX, submitted.request_id)
        statuses = await asyncio.wait_for(watching, 10)

    assert statuses[-1].state is FalRequestState.COMPLETED
    record = served(control, submitted.request_id)
    assert record["status_streams"] == 1
    assert record["status_polls"] > 0


@pytest.mark.asyncio
async def test_stream_leaves_queue_calls_free(
    standin: RunningStandin, control: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one connection for queue calls, a submit still goes out while a status stream is open.

    Were the stream in the queue calls' pool, the submit would wait for the stream's connection
    until the first request completed.
    """
    monkeypatch.setattr(fal_client_module, "QUEUE_LIMITS", httpx.Limits(max_connections=1, max_keepalive_connections=1))
    timing = {"queue_seconds": 0.0, "run_seconds": 1.0, "log_count": 2}
    control.put(f"/_sandbox/endpoints/{FLUX}", json={"timing": timing}).raise_for_status()
    config = FalGatewayConfig(sandbox_url=standin.url, poll_interval=0.02, status_stream=True)
    order: list[str] = []

    async with FalGateway(config) as gateway:
        first = await gateway.submit(FLUX, ARGUMENTS)

        async def watch_first() -> None:
            async for status in gateway.watch(FLUX, first.request_id):
                if status.state is FalRequestState.IN_PROGRESS and "stream open" not in order:
                    order.append("stream open")
            order.append("first completed")

        watcher = asyncio.create_task(watch_first())
        while "stream open" not in order and not watcher.done():
            await asyncio.sleep(0.01)
        second = await gateway.submit(FLUX, {**ARGUMENTS, "seed": 6})
        order.append("second submitted")
        await watcher

    assert second.request_id != first.request_id
    assert order == ["stream open", "second submitted", "first completed"]
    assert served(control, first.request_id)["status_streams"] == 1
