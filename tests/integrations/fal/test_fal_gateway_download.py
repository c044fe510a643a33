"""download_media accepts only fal media hosts (or the stand-in), public addresses, bounded size and type."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from media_server import PNG_BODY, media_server

from falflow.integrations.fal import (
    AddressGuard,
    FalGateway,
    FalMediaError,
    FalRetryableError,
    MediaHostPolicy,
    download_media,
)
from falflow.integrations.fal.download import IPAddress
from falflow.integrations.fal.transport import SandboxRewriteTransport

IMAGES = ["image/*"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with media_server() as origin:
        yield origin


class FakeDns(AddressGuard):
    """Test double for DNS: fixed answers, and no peer check because the test server must be on loopback."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(self.answers[host])]

    def check_peer(self, address: IPAddress, url: str) -> None:
        return None


def live_route(server: str) -> SandboxRewriteTransport:
    """Route fal hosts to the loopback server, so live-mode URLs reach it without leaving the machine."""
    return SandboxRewriteTransport(server)


@pytest.mark.asyncio
async def test_sandbox_download_returns_bytes_and_hash(server: str) -> None:
    downloaded = await download_media(
        f"{server}/image.png", max_bytes=10_000, allowed_content_types=IMAGES, sandbox_url=server
    )

    assert downloaded.data == PNG_BODY
    assert downloaded.content_type == "image/png"
    assert downloaded.size_bytes == len(PNG_BODY)
    assert len(downloaded.sha256) == 64


@pytest.mark.asyncio
async def test_gateway_downloads_standin_output(gateway: FalGateway) -> None:
    submitted = await gateway.submit("fal-ai/flux/schnell", {"prompt": "x", "image_size": "square"})
    output = await gateway.result("fal-ai/flux/schnell", submitted.request_id)

    downloaded = await gateway.download_media(
        output["images"][0]["url"], max_bytes=1_000_000, allowed_content_types=IMAGES
    )

    assert downloaded.content_type == "image/jpeg"
    assert downloaded.size_bytes == output["images"][0]["file_size"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://example.com/cat.png", "host_not_allowed"),
        ("https://fal.media.example.com/cat.png", "host_not_allowed"),
        ("https://storage.googleapis.com/other-bucket/cat.png", "host_not_allowed"),
        ("file:///etc/passwd", "scheme_not_allowed"),
        ("http://127.0.0.1:9/cat.png", "scheme_not_allowed"),
        ("http://v3.fal.media/cat.png", "scheme_not_allowed"),
        ("https://127.0.0.1/cat.png", "host_not_allowed"),
        ("ftp://v3.fal.media/cat.png", "scheme_not_allowed"),
    ],
)
@pytest.mark.asyncio
async def test_live_mode_rejects_before_connecting(url: str, reason: str) -> None:
    guard = FakeDns({})

    with pytest.raises(FalMediaError) as caught:
        await download_media(url, max_bytes=1000, allowed_content_types=IMAGES, address_guard=guard)

    assert caught.value.reason == reason
    assert caught.value.url == url
    assert guard.asked == []


def test_policy_allows_fal_hosts() -> None:
    live = MediaHostPolicy()
    sandbox = MediaHostPolicy(sandbox_url="http://127.0.0.1:8710")

    assert live.is_allowed("https://v3.fal.media/files/abc.png")
    assert live.is_allowed("https://fal.media/files/abc.png")
    assert live.is_allowed("https://storage.googleapis.com/falserverless/abc.png")
    assert not live.is_allowed("http://127.0.0.1:8710/files/abc.png")
    assert sandbox.is_allowed("http://127.0.0.1:8710/files/abc.png")
    assert not sandbox.is_allowed("http://127.0.0.1:8711/files/abc.png")
    assert not sandbox.is_allowed("not a url")


@pytest.mark.asyncio
async def test_oversize_by_content_length(server: str) -> None:
    with pytest.raises(FalMediaError) as caught:
        await download_media(f"{server}/image.png", max_bytes=100, allowed_content_types=IMAGES, sandbox_url=server)

    assert caught.value.reason == "too_large"
    assert "declares" in str(caught.value)


@pytest.mark.asyncio
async def test_oversize_while_streaming(server: str) -> None:
    with pytest.raises(FalMediaError) as caught:
        await download_media(f"{server}/chunked", max_bytes=1000, allowed_content_types=IMAGES, sandbox_url=server)
    complete = await download_media(
        f"{server}/chunked", max_bytes=len(PNG_BODY), allowed_content_types=IMAGES, sandbox_url=server
    )

    assert caught.value.reason == "too_large"
    assert "sent more than" in str(caught.value)
    assert complete.data == PNG_BODY


@pytest.mark.parametrize("path", ["/text", "/untyped"])
@pytest.mark.asyncio
async def test_wrong_content_type(server: str, path: str) -> None:
    with pytest.raises(FalMediaError) as caught:
        await download_media(f"{server}{path}", max_bytes=1000, allowed_content_types=IMAGES, sandbox_url=server)

    assert caught.value.reason == "content_type_not_allowed"


@pytest.mark.asyncio
async def test_exact_content_type_match(server: str) -> None:
    with pytest.raises(FalMediaError):
        await download_media(
            f"{server}/image.png", max_bytes=10_000, allowed_content_types=["image/jpeg"], sandbox_url=server
        )
    allowed = await download_media(
        f"{server}/image.png", max_bytes=10_000, allowed_content_types=["IMAGE/PNG"], sandbox_url=server
    )

    assert allowed.content_type == "image/png"


@pytest.mark.asyncio
async def test_http_errors(server: str) -> None:
    with pytest.raises(FalMediaError) as missing:
        await download_media(f"{server}/missing", max_bytes=1000, allowed_content_types=IMAGES, sandbox_url=server)
    with pytest.raises(FalRetryableError) as broken:
        await download_media(f"{server}/broken", max_bytes=1000, allowed_content_types=IMAGES, sandbox_url=server)

    assert missing.value.reason == "http_error"
    assert missing.value.status_code == 404
    assert broken.value.status_code == 500


@pytest.mark.asyncio
async def test_redirect_loop_is_cut(server: str) -> None:
    with pytest.raises(FalMediaError) as caught:
        await download_media(f"{server}/loop", max_bytes=1000, allowed_content_types=IMAGES, sandbox_url=server)

    assert caught.value.reason == "too_many_redirects"


@pytest.mark.asyncio
async def test_live_redirect_to_fal_host_is_followed(server: str) -> None:
    """Uses a fake DNS resolver and routes fal hosts to the loopback server."""
    guard = FakeDns({"v3.fal.media": "8.8.8.8"})

    downloaded = await download_media(
        "https://v3.fal.media/redirect-ok",
        max_bytes=10_000,
        allowed_content_types=IMAGES,
        address_guard=guard,
        transport=live_route(server),
    )

    assert downloaded.data == PNG_BODY
    assert downloaded.url == "https://v3.fal.media/image.png"
    assert guard.asked == ["v3.fal.media", "v3.fal.media"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/redirect-internal", "address_not_allowed"),
        ("/redirect-http-loopback", "scheme_not_allowed"),
        ("/redirect-metadata", "scheme_not_allowed"),
    ],
)
@pytest.mark.asyncio
async def test_live_redirect_to_private_address_is_rejected(server: str, path: str, reason: str) -> None:
    """Uses a fake DNS resolver (internal.fal.media answers 127.0.0.1) and routes fal hosts to the loopback server."""
    guard = FakeDns({"v3.fal.media": "8.8.8.8", "internal.fal.media": "127.0.0.1"})

    with pytest.raises(FalMediaError) as caught:
        await download_media(
            f"https://v3.fal.media{path}",
            max_bytes=10_000,
            allowed_content_types=IMAGES,
            address_guard=guard,
            transport=live_route(server),
        )

    assert caught.value.reason == reason


@pytest.mark.asyncio
async def test_real_resolver_rejects_localhost() -> None:
    guard = AddressGuard()

    with pytest.raises(FalMediaError) as caught:
        await guard.check_host("localhost", 443, "https://localhost/x.png")

    assert caught.value.reason == "address_not_allowed"


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_address_guard_classifies(address: str, allowed: bool) -> None:
    assert AddressGuard.is_allowed(ipaddress.ip_address(address)) is allowed


def test_peer_check_rejects_loopback() -> None:
    with pytest.raises(FalMediaError) as caught:
        AddressGuard().check_peer(ipaddress.ip_address("127.0.0.1"), "https://v3.fal.media/x.png")

    assert caught.value.reason == "address_not_allowed"


@pytest.mark.asyncio
async def test_peer_check_runs_on_connected_socket(server: str) -> None:
    """Uses a fake DNS resolver, so only the real peer check can reject the loopback socket."""

    class DnsOnly(AddressGuard):
        async def resolve(self, host: str, port: int) -> list[IPAddress]:
            return [ipaddress.ip_address("8.8.8.8")]

    with pytest.raises(FalMediaError) as caught:
        await download_media(
            "https://v3.fal.media/image.png",
            max_bytes=10_000,
            allowed_content_types=IMAGES,
            address_guard=DnsOnly(),
            transport=live_route(server),
        )

    assert caught.value.reason == "address_not_allowed"
    assert "connected to" in str(caught.value)
