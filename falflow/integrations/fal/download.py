"""Download fal output files safely: allowed hosts only, public addresses only, bounded size and type.

Allowed in live mode: https URLs on ``fal.media`` or any ``*.fal.media`` host, and
``https://storage.googleapis.com/falserverless/...``. Sandbox mode also allows the stand-in's exact origin
(plain http on loopback is fine there). Before connecting to a non-sandbox host, every address that the
host resolves to must be public. After connecting, the peer address is checked again, which catches a
DNS answer that changed in between. Redirects are followed by hand, and each hop goes through the same
checks.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import socket
from collections.abc import Collection
from dataclasses import dataclass

import httpx

from falflow.integrations.fal.config import normalize_sandbox_url
from falflow.integrations.fal.errors import FalMediaError, FalRetryableError
from falflow.integrations.fal.transport import shared_ssl_context

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_GCS_HOST = "storage.googleapis.com"
_GCS_PATH_PREFIX = "/falserverless/"
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class DownloadedFile:
    """A downloaded file; ``content_type`` has no parameters, ``sha256`` is the hex digest of ``data``."""

    data: bytes
    content_type: str
    sha256: str
    url: str

    @property
    def size_bytes(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class MediaHostPolicy:
    """Allowed URLs for ``download_media``; ``sandbox_url`` adds the stand-in's origin."""

    sandbox_url: str | None = None

    def check(self, url: str) -> bool:
        """Raise ``FalMediaError`` for a URL outside the policy; return True if it is the stand-in's origin."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FalMediaError(f"media URL {url!r} is not a valid URL: {exc}", reason="invalid_url", url=url) from exc
        if self.sandbox_url is not None and _origin(parsed) == self.sandbox_url:
            return True
        if parsed.scheme != "https":
            raise FalMediaError(
                f"media URL {url!r} uses the scheme {parsed.scheme!r}; only https URLs on fal's media hosts "
                "are downloaded",
                reason="scheme_not_allowed",
                url=url,
            )
        host = parsed.host.lower()
        if host == "fal.media" or host.endswith(".fal.media"):
            return False
        if host == _GCS_HOST and parsed.path.startswith(_GCS_PATH_PREFIX):
            return False
        raise FalMediaError(
            f"media URL {url!r} is not on fal's media hosts (*.fal.media, {_GCS_HOST}{_GCS_PATH_PREFIX}); "
            "download the file yourself and upload it instead",
            reason="host_not_allowed",
            url=url,
        )

    def is_allowed(self, url: str) -> bool:
        """Return True if the URL's scheme and host pass ``check``; addresses are checked only on download."""
        try:
            self.check(url)
        except FalMediaError:
            return False
        return True


class AddressGuard:
    """Resolve hosts and accept only public unicast addresses (no private, loopback or link-local)."""

    async def check_host(self, host: str, port: int, url: str) -> None:
        """Raise ``FalMediaError`` unless every address that ``host`` resolves to is allowed."""
        for address in await self.resolve(host, port):
            if not self.is_allowed(address):
                raise FalMediaError(
                    f"media URL {url!r} resolves to the non-public address {address}; refusing to connect",
                    reason="address_not_allowed",
                    url=url,
                )

    def check_peer(self, address: IPAddress, url: str) -> None:
        """Raise ``FalMediaError`` if the connected peer's address is not allowed."""
        if not self.is_allowed(address):
            raise FalMediaError(
                f"media URL {url!r} connected to the non-public address {address}; refusing to read it",
                reason="address_not_allowed",
                url=url,
            )

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FalRetryableError(f"could not resolve media host {host!r}: {exc}", error_type="dns_error") from exc
        return [ipaddress.ip_address(info[4][0]) for info in infos]

    @staticmethod
    def is_allowed(address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.is_global and not address.is_multicast


async def download_media(
    url: str,
    *,
    max_bytes: int,
    allowed_content_types: Collection[str],
    sandbox_url: str | None = None,
    timeout: float = 60.0,
    max_redirects: int = 5,
    address_guard: AddressGuard | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DownloadedFile:
    """Download one media file and return its bytes, content type and sha256.

    ``allowed_content_types`` contains MIME types such as ``image/png`` or wildcards such as ``image/*``.
    ``max_bytes`` caps the body, checked against Content-Length and again while streaming. ``sandbox_url``
    adds the stand-in's origin to the allowed hosts. ``address_guard`` and ``transport`` exist so tests
    can replace DNS and the network. Rejections raise ``FalMediaError``; network failures raise
    ``FalRetryableError``.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes!r}")
    policy = MediaHostPolicy(sandbox_url=normalize_sandbox_url(sandbox_url) if sandbox_url else None)
    guard = address_guard or AddressGuard()
    allowed = [item.lower() for item in allowed_content_types]
    current = url
    trust_env = sandbox_url is None
    async with httpx.AsyncClient(
        transport=transport,
        verify=shared_ssl_context(trust_env),
        timeout=timeout,
        follow_redirects=False,
        trust_env=trust_env,
    ) as client:
        for _ in range(max_redirects + 1):
            is_sandbox = policy.check(current)
            parsed = httpx.URL(current)
            if not is_sandbox:
                await guard.check_host(parsed.host, parsed.port or 443, current)
            try:
                async with client.stream("GET", current) as response:
                    if not is_sandbox:
                        _check_peer(response, guard, current)
                    if response.status_code in _REDIRECT_CODES and "location" in response.headers:
                        current = str(parsed.join(response.headers["location"]))
                        continue
                    return await _read_body(response, current, max_bytes, allowed)
            except httpx.TimeoutException as exc:
                raise FalRetryableError(f"download of {current!r} timed out", error_type="timeout") from exc
            except httpx.TransportError as exc:
                raise FalRetryableError(
                    f"download of {current!r} failed: {type(exc).__name__}: {exc}", error_type="connection_error"
                ) from exc
    raise FalMediaError(
        f"media URL {url!r} redirected more than {max_redirects} times", reason="too_many_redirects", url=url
    )


async def _read_body(response: httpx.Response, url: str, max_bytes: int, allowed: list[str]) -> DownloadedFile:
    content_type = _check_response(response, url, max_bytes, allowed)

    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FalMediaError(
                f"media URL {url!r} sent more than the limit of {max_bytes} bytes", reason="too_large", url=url
            )
        digest.update(chunk)
        chunks.append(chunk)

    logger.info("fal.media.downloaded", extra={"url_host": response.url.host, "size_bytes": size})
    return DownloadedFile(data=b"".join(chunks), content_type=content_type, sha256=digest.hexdigest(), url=url)


def _check_response(response: httpx.Response, url: str, max_bytes: int, allowed: list[str]) -> str:
    """Raise for a failed status, a content type outside ``allowed`` or a declared size over the limit.

    Return the content type without parameters.
    """
    if response.status_code >= 500:
        raise FalRetryableError(
            f"download of {url!r} failed with HTTP {response.status_code}; retry later",
            status_code=response.status_code,
        )
    if response.status_code != 200:
        raise FalMediaError(
            f"download of {url!r} failed with HTTP {response.status_code}",
            reason="http_error",
            url=url,
            status_code=response.status_code,
        )

    header: str = response.headers.get("content-type", "")
    content_type = header.split(";")[0].strip().lower()
    if not _content_type_allowed(content_type, allowed):
        raise FalMediaError(
            f"media URL {url!r} has the content type {content_type or '(none)'!r}; expected one of "
            f"{', '.join(allowed)}",
            reason="content_type_not_allowed",
            url=url,
        )

    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FalMediaError(
            f"media URL {url!r} declares {declared} bytes, more than the limit of {max_bytes}",
            reason="too_large",
            url=url,
        )
    return content_type


def _check_peer(response: httpx.Response, guard: AddressGuard, url: str) -> None:
    stream = response.extensions.get("network_stream")
    server_addr = stream.get_extra_info("server_addr") if stream is not None else None
    if server_addr is None:
        # NOTE: without a socket (an injected transport, HTTP/2) there is no peer address to check here;
        # the check before connecting still applies.
        return
    guard.check_peer(ipaddress.ip_address(server_addr[0]), url)


def _content_type_allowed(content_type: str, allowed: list[str]) -> bool:
    if not content_type:
        return False
    major = content_type.split("/")[0]
    return content_type in allowed or f"{major}/*" in allowed


def _origin(url: httpx.URL) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{host}{port}"
