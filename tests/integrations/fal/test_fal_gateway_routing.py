"""Configuration, sandbox routing of fal hosts, and uploads through the real fal client."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import httpx
import pytest
from media_server import PNG_BODY, media_server
from PIL import Image

from falflow.integrations.fal import FalConfigError, FalGateway, FalGatewayConfig, FalRequestError
from falflow.integrations.fal.config import poll_delay
from falflow.integrations.fal.transport import SandboxRewriteTransport, is_fal_host


def test_live_mode_needs_key() -> None:
    with pytest.raises(FalConfigError) as caught:
        FalGatewayConfig()

    assert "key is missing" in str(caught.value)
    assert FalGatewayConfig(key="id:secret").is_sandbox is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://127.0.0.1:8710", "http://127.0.0.1:8710"),
        ("http://127.0.0.1:8710/", "http://127.0.0.1:8710"),
        ("http://[::1]:8710", "http://[::1]:8710"),
        ("HTTP://LOCALHOST:8710", "http://localhost:8710"),
    ],
)
def test_sandbox_url_is_normalized(value: str, expected: str) -> None:
    assert FalGatewayConfig(sandbox_url=value).sandbox_url == expected


@pytest.mark.parametrize("value", ["127.0.0.1:8710", "ftp://127.0.0.1", "http://127.0.0.1:8710/fal", "http://h/?x=1"])
def test_bad_sandbox_url_is_rejected(value: str) -> None:
    with pytest.raises(FalConfigError) as caught:
        FalGatewayConfig(sandbox_url=value)

    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"poll_interval": 0}, {"request_timeout": -1}, {"start_timeout": 1.0}, {"watch_retry_limit": -1},
        {"poll_max_interval": 0}, {"poll_backoff_ratio": -0.1}, {"poll_backoff_ratio": 1.5},
    ],
)
def test_bad_durations_are_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(FalConfigError):
        FalGatewayConfig(key="id:secret", **changes)


def test_polls_spread_out_as_a_request_ages() -> None:
    config = FalGatewayConfig(key="id:secret", poll_interval=0.1, poll_max_interval=2.0, poll_backoff_ratio=0.1)
    # Young requests are polled at the base interval, older ones every tenth of their age, capped.
    assert poll_delay(config, 0.1, age=0.0) == 0.1
    assert poll_delay(config, 0.1, age=0.5) == 0.1
    assert poll_delay(config, 0.1, age=5.0) == pytest.approx(0.5)
    assert poll_delay(config, 0.1, age=600.0) == 2.0
    # A base interval above the cap wins: the cap only limits the growth.
    assert poll_delay(config, 3.0, age=600.0) == 3.0
    # A ten-minute request costs about 330 polls instead of 6,000 at a fixed 0.1 s.
    polls, age = 0, 0.0
    while age < 600.0:
        age += poll_delay(config, 0.1, age)
        polls += 1
    assert polls < 400


def test_fal_hosts() -> None:
    assert is_fal_host("queue.fal.run")
    assert is_fal_host("REST.FAL.AI")
    assert is_fal_host("v3b.fal.media")
    assert is_fal_host("custom.example", extra_hosts=["custom.example"])
    assert not is_fal_host("fal.run.example.com")


@pytest.mark.asyncio
async def test_rewrite_reaches_loopback_server() -> None:
    with media_server() as origin:
        async with httpx.AsyncClient(transport=SandboxRewriteTransport(origin)) as client:
            response = await client.get("https://v3.fal.media/image.png")

    assert response.status_code == 200
    assert response.content == PNG_BODY


@pytest.mark.asyncio
async def test_rewrite_blocks_other_hosts() -> None:
    async with httpx.AsyncClient(transport=SandboxRewriteTransport("http://127.0.0.1:9")) as client:
        with pytest.raises(FalRequestError) as caught:
            await client.get("https://example.com/")

    assert caught.value.error_type == "sandbox_host_blocked"


@pytest.mark.asyncio
async def test_upload_round_trip(gateway: FalGateway) -> None:
    data = b"\x00\x01" * 5000

    url = await gateway.upload(data, "application/octet-stream", "blob.bin")
    downloaded = await gateway.download_media(url, max_bytes=20_000, allowed_content_types=["application/octet-stream"])

    assert url.startswith(f"{gateway.config.sandbox_url}/files/")
    assert url.endswith("-blob.bin")
    assert downloaded.data == data
    assert downloaded.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.asyncio
async def test_uploaded_file_feeds_an_endpoint(gateway: FalGateway) -> None:
    image_url = await gateway.upload(tiny_png(), "image/png", "tiny.png")

    submitted = await gateway.submit("fal-ai/esrgan", {"image_url": image_url, "scale": 2})
    output = await gateway.result("fal-ai/esrgan", submitted.request_id)

    assert (output["image"]["width"], output["image"]["height"]) == (64, 48)


def test_live_gateway_is_built_without_network() -> None:
    gateway = FalGateway(FalGatewayConfig(key="id:secret"))

    assert gateway.config.is_sandbox is False
    assert gateway.is_allowed_media_url("https://v3.fal.media/files/a.png")
    assert not gateway.is_allowed_media_url("http://127.0.0.1:8710/files/a.png")


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()
