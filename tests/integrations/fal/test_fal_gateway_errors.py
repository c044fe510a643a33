"""fal failures surface as typed FalError subclasses with the right retryable flag (real client, real HTTP)."""

from __future__ import annotations

import socket

import httpx
import pytest

from falflow.integrations.fal import (
    FalAccountLockedError,
    FalAuthError,
    FalGateway,
    FalGatewayConfig,
    FalNotFoundError,
    FalRequestError,
    FalRequestState,
    FalRetryableError,
    FalValidationError,
)
from falflow.sandbox.fal import RunningStandin

FLUX = "fal-ai/flux/schnell"
ARGUMENTS = {"prompt": "a paper boat", "image_size": {"width": 128, "height": 96}}


def set_faults(control: httpx.Client, **faults: object) -> None:
    control.put(f"/_sandbox/endpoints/{FLUX}", json={"faults": faults}).raise_for_status()


@pytest.mark.asyncio
async def test_invalid_input_raises_validation_error(gateway: FalGateway) -> None:
    submitted = await gateway.submit(FLUX, {"prompt": "x", "num_images": 7, "output_format": "bmp"})
    final = [status async for status in gateway.watch(FLUX, submitted.request_id)][-1]

    with pytest.raises(FalValidationError) as caught:
        await gateway.result(FLUX, submitted.request_id)

    error = caught.value
    assert final.state is FalRequestState.COMPLETED
    assert final.error_type == "less_than_equal"
    assert [field.param for field in error.errors] == ["num_images", "output_format"]
    assert error.errors[0].context == {"le": 4}
    assert error.status_code == 422
    assert error.retryable is False
    assert "parameter 'num_images'" in str(error)
    assert "parameter 'output_format'" in str(error)
    assert submitted.request_id in str(error)


@pytest.mark.asyncio
async def test_injected_validation_fault_names_param(gateway: FalGateway, control: httpx.Client) -> None:
    set_faults(control, validation_error={"param": "image_size", "message": "Image size is too small"})
    submitted = await gateway.submit(FLUX, ARGUMENTS)

    with pytest.raises(FalValidationError) as caught:
        await gateway.result(FLUX, submitted.request_id)

    assert caught.value.errors[0].param == "image_size"
    assert caught.value.errors[0].message == "Image size is too small"
    assert caught.value.retryable is False


@pytest.mark.asyncio
async def test_submit_rate_limit_is_retryable(gateway: FalGateway, control: httpx.Client) -> None:
    set_faults(control, rate_limit_submits=1)

    with pytest.raises(FalRetryableError) as caught:
        await gateway.submit(FLUX, ARGUMENTS)
    second = await gateway.submit(FLUX, ARGUMENTS)

    assert caught.value.status_code == 429
    assert caught.value.retryable is True
    assert caught.value.retry_after == 1.0
    assert caught.value.endpoint_id == FLUX
    assert second.request_id
    listing = control.get("/_sandbox/requests").json()
    assert listing["injected_faults"]["submit_rate_limit"] == {FLUX: 1}
    assert len(listing["requests"]) == 1


@pytest.mark.asyncio
async def test_status_rate_limit_is_retryable(gateway: FalGateway, control: httpx.Client) -> None:
    set_faults(control, rate_limit_status=1)
    submitted = await gateway.submit(FLUX, ARGUMENTS)

    with pytest.raises(FalRetryableError) as caught:
        await gateway.status(FLUX, submitted.request_id)
    status = await gateway.status(FLUX, submitted.request_id)

    assert caught.value.status_code == 429
    assert status.request_id == submitted.request_id


@pytest.mark.asyncio
async def test_watch_absorbs_status_rate_limits(gateway: FalGateway, control: httpx.Client) -> None:
    set_faults(control, rate_limit_status=3, retry_after_seconds=0)
    submitted = await gateway.submit(FLUX, ARGUMENTS)
    fast = FalGateway(FalGatewayConfig(sandbox_url=gateway.config.sandbox_url, poll_interval=0.01, watch_retry_limit=3))

    async with fast:
        events = [status async for status in fast.watch(FLUX, submitted.request_id, poll_interval=0.001)]

    assert events[-1].is_completed
    assert control.get("/_sandbox/requests").json()["injected_faults"]["status_rate_limit"] == {FLUX: 3}


@pytest.mark.asyncio
async def test_watch_gives_up_after_retry_limit(standin: RunningStandin, control: httpx.Client) -> None:
    set_faults(control, rate_limit_status=5, retry_after_seconds=0)
    async with FalGateway(
        FalGatewayConfig(sandbox_url=standin.url, poll_interval=0.001, watch_retry_limit=1)
    ) as gateway:
        submitted = await gateway.submit(FLUX, ARGUMENTS)

        with pytest.raises(FalRetryableError):
            async for _ in gateway.watch(FLUX, submitted.request_id):
                pass


@pytest.mark.asyncio
async def test_result_server_error_is_retryable(gateway: FalGateway, control: httpx.Client) -> None:
    set_faults(control, result_server_errors=1)
    submitted = await gateway.submit(FLUX, ARGUMENTS)

    with pytest.raises(FalRetryableError) as caught:
        await gateway.result(FLUX, submitted.request_id)
    output = await gateway.result(FLUX, submitted.request_id)

    assert caught.value.status_code == 500
    assert caught.value.error_type == "internal_server_error"
    assert output["images"][0]["height"] == 96


@pytest.mark.asyncio
async def test_model_failure_is_retryable(gateway: FalGateway, control: httpx.Client) -> None:
    set_faults(control, failure_rate=1.0)
    submitted = await gateway.submit(FLUX, ARGUMENTS)

    with pytest.raises(FalRetryableError) as caught:
        await gateway.result(FLUX, submitted.request_id)

    assert caught.value.status_code == 500


@pytest.mark.asyncio
async def test_wrong_key_raises_auth_error(standin: RunningStandin, control: httpx.Client) -> None:
    control.patch("/_sandbox/config", json={"accepted_keys": ["good:key"]}).raise_for_status()

    async with FalGateway(FalGatewayConfig(key="bad:key", sandbox_url=standin.url)) as wrong:
        with pytest.raises(FalAuthError) as caught:
            await wrong.submit(FLUX, ARGUMENTS)
    async with FalGateway(FalGatewayConfig(key="good:key", sandbox_url=standin.url)) as right:
        submitted = await right.submit(FLUX, ARGUMENTS)

    assert caught.value.status_code == 401
    assert "FAL_KEY is not valid" in str(caught.value)
    assert "No user found" in str(caught.value)
    assert caught.value.retryable is False
    assert submitted.request_id


@pytest.mark.asyncio
async def test_locked_account_raises_locked_error(gateway: FalGateway, control: httpx.Client) -> None:
    control.patch("/_sandbox/config", json={"account_locked": True}).raise_for_status()

    with pytest.raises(FalAccountLockedError) as caught:
        await gateway.submit(FLUX, ARGUMENTS)

    assert caught.value.status_code == 403
    assert "top up" in str(caught.value)
    assert caught.value.retryable is False


@pytest.mark.asyncio
async def test_unknown_endpoint_and_request(gateway: FalGateway) -> None:
    with pytest.raises(FalNotFoundError) as unknown_endpoint:
        await gateway.submit("fal-ai/not-a-model", {"prompt": "x"})
    with pytest.raises(FalNotFoundError) as unknown_request:
        await gateway.status(FLUX, "00000000-0000-0000-0000-000000000000")

    assert unknown_endpoint.value.status_code == 404
    assert unknown_request.value.request_id == "00000000-0000-0000-0000-000000000000"


@pytest.mark.asyncio
async def test_malformed_ids_are_rejected_before_sending(gateway: FalGateway, control: httpx.Client) -> None:
    with pytest.raises(FalRequestError) as bad_endpoint:
        await gateway.submit("flux", {"prompt": "x"})
    with pytest.raises(FalRequestError) as bad_request:
        await gateway.result(FLUX, "../../_sandbox/reset")

    assert "'flux'" in str(bad_endpoint.value)
    assert bad_endpoint.value.error_type == "invalid_endpoint_id"
    assert bad_request.value.error_type == "invalid_request_id"
    assert control.get("/_sandbox/requests").json()["requests"] == []


@pytest.mark.asyncio
async def test_unreachable_standin_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    async with FalGateway(FalGatewayConfig(sandbox_url=f"http://127.0.0.1:{closed_port}")) as gateway:
        with pytest.raises(FalRetryableError) as caught:
            await gateway.submit(FLUX, ARGUMENTS)

    assert caught.value.error_type == "connection_error"
    assert "stand-in" in str(caught.value)
