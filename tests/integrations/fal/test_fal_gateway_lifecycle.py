"""FalGateway drives the real fal_client.AsyncClient against the stand-in: submit, watch, result, cancel."""

from __future__ import annotations

import httpx
import pytest

from falflow.integrations.fal import CancelOutcome, FalGateway, FalRequestError, FalRequestState, FalStatus

FLUX = "fal-ai/flux/dev"
BLOCKER = "fal-ai/flux/schnell"
ARGUMENTS = {"prompt": "a paper boat", "image_size": {"width": 160, "height": 120}, "seed": 5}


def slow_down(control: httpx.Client, *, queue_seconds: float, run_seconds: float, log_count: int) -> None:
    timing = {"queue_seconds": queue_seconds, "run_seconds": run_seconds, "log_count": log_count}
    control.put(f"/_sandbox/endpoints/{FLUX}", json={"timing": timing}).raise_for_status()


async def occupy_only_slot(gateway: FalGateway, control: httpx.Client) -> str:
    """Limit the stand-in to one runner and fill it with a request that hangs; return that request's id."""
    control.patch("/_sandbox/config", json={"max_concurrency": 1}).raise_for_status()
    control.put(f"/_sandbox/endpoints/{BLOCKER}", json={"faults": {"hang": True}}).raise_for_status()
    blocker = await gateway.submit(BLOCKER, {"prompt": "blocker"})
    async for status in gateway.watch(BLOCKER, blocker.request_id):
        if status.state is FalRequestState.IN_PROGRESS:
            break
    return blocker.request_id


@pytest.mark.asyncio
async def test_submit_watch_result(gateway: FalGateway, control: httpx.Client) -> None:
    slow_down(control, queue_seconds=0, run_seconds=0.5, log_count=5)
    blocker_id = await occupy_only_slot(gateway, control)

    submitted = await gateway.submit(FLUX, ARGUMENTS)
    events = []
    async for status in gateway.watch(FLUX, submitted.request_id):
        events.append(status)
        if len(events) == 1:
            await gateway.cancel(BLOCKER, blocker_id)
    output = await gateway.result(FLUX, submitted.request_id)

    assert submitted.endpoint_id == FLUX
    assert submitted.status_url.endswith(f"/fal-ai/flux/requests/{submitted.request_id}/status")
    states = [event.state for event in events]
    assert states[0] is FalRequestState.QUEUED
    assert events[0].queue_position == 0
    assert FalRequestState.IN_PROGRESS in states
    assert states[-1] is FalRequestState.COMPLETED
    assert states.count(FalRequestState.COMPLETED) == 1
    messages = [log.message for event in events for log in event.logs]
    assert messages[1:] == ["step 1/5", "step 2/5", "step 3/5", "step 4/5", "step 5/5"]
    assert len(messages) == len(set(messages))
    assert events[-1].logs_seen == 6
    assert all(log.timestamp is not None for event in events for log in event.logs)
    assert events[-1].metrics["inference_time"] > 0
    assert output["seed"] == 5
    assert output["images"][0]["width"] == 160


@pytest.mark.asyncio
async def test_status_by_id(gateway: FalGateway) -> None:
    submitted = await gateway.submit(FLUX, ARGUMENTS)
    await gateway.result(FLUX, submitted.request_id)

    with_logs = await gateway.status(FLUX, submitted.request_id)
    without_logs = await gateway.status(FLUX, submitted.request_id, with_logs=False)

    assert isinstance(with_logs, FalStatus)
    assert with_logs.is_completed
    assert with_logs.logs_seen == len(with_logs.logs) == 4
    assert with_logs.logs[0].level == "INFO"
    assert without_logs.logs == []
    assert with_logs.error is None


@pytest.mark.asyncio
async def test_watch_resumes_after_seen_logs(gateway: FalGateway) -> None:
    submitted = await gateway.submit(FLUX, ARGUMENTS)
    await gateway.result(FLUX, submitted.request_id)

    events = [status async for status in gateway.watch(FLUX, submitted.request_id, logs_seen=3)]

    assert len(events) == 1
    assert [log.message for log in events[0].logs] == ["step 3/3"]
    assert events[0].logs_seen == 4


@pytest.mark.asyncio
async def test_cancel_before_start(gateway: FalGateway, control: httpx.Client) -> None:
    slow_down(control, queue_seconds=10, run_seconds=0.1, log_count=1)
    submitted = await gateway.submit(FLUX, ARGUMENTS)

    outcome = await gateway.cancel(FLUX, submitted.request_id)
    final = [status async for status in gateway.watch(FLUX, submitted.request_id)][-1]

    assert outcome is CancelOutcome.REQUESTED
    assert final.is_completed
    assert final.error_type == "request_cancelled"
    with pytest.raises(FalRequestError) as caught:
        await gateway.result(FLUX, submitted.request_id)
    assert caught.value.error_type == "request_cancelled"
    assert caught.value.retryable is False


@pytest.mark.asyncio
async def test_cancel_while_running(gateway: FalGateway, control: httpx.Client) -> None:
    slow_down(control, queue_seconds=0, run_seconds=10, log_count=10)
    submitted = await gateway.submit(FLUX, ARGUMENTS)
    async for status in gateway.watch(FLUX, submitted.request_id):
        if status.state is FalRequestState.IN_PROGRESS:
            break

    outcome = await gateway.cancel(FLUX, submitted.request_id)

    assert outcome is CancelOutcome.REQUESTED
    assert (await gateway.status(FLUX, submitted.request_id)).is_completed


@pytest.mark.asyncio
async def test_cancel_after_completion_and_unknown(gateway: FalGateway) -> None:
    submitted = await gateway.submit(FLUX, ARGUMENTS)
    await gateway.result(FLUX, submitted.request_id)

    after = await gateway.cancel(FLUX, submitted.request_id)
    unknown = await gateway.cancel(FLUX, "00000000-0000-0000-0000-000000000000")

    assert after is CancelOutcome.ALREADY_COMPLETED
    assert unknown is CancelOutcome.NOT_FOUND


@pytest.mark.asyncio
async def test_gateway_sends_key(gateway: FalGateway, control: httpx.Client) -> None:
    control.patch("/_sandbox/config", json={"accepted_keys": ["sandbox:sandbox"]}).raise_for_status()

    submitted = await gateway.submit(FLUX, ARGUMENTS)

    assert (await gateway.result(FLUX, submitted.request_id))["seed"] == 5
