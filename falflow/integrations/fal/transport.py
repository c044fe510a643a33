"""httpx transports under the fal SDK: sandbox routing, and failing fast instead of the SDK's retries.

``SandboxRewriteTransport`` sends every request addressed to a fal host to the stand-in's origin over
real HTTP, keeping method, path, query, headers and body. ``FailFastTransport`` turns every failure that
the SDK would retry into ``FalRetryableError``, so the caller (the run engine) owns backoff, duplicate
submits and per-account concurrency.
"""

from __future__ import annotations

import functools
import logging
import math
import ssl
from collections.abc import AsyncIterator, Callable, Iterable

import httpx

from falflow.integrations.fal.errors import FalRequestError, FalRetryableError, decode_body, error_from_response

logger = logging.getLogger(__name__)

# Hosts that fal-client 1.0.3 and fal's responses use: queue, synchronous run and their backup domains,
# REST and storage, the Platform API and the CDN. Any ``*.fal.media`` host is matched separately.
FAL_HOSTS = frozenset(
    {
        "queue.fal.run",
        "fal.run",
        "queue.falrun.com",
        "falrun.com",
        "rest.fal.ai",
        "rest.alpha.fal.ai",
        "api.fal.ai",
        "fal.media",
    }
)

# Responses that fal-client 1.0.3 retries: these codes always, and ingress errors when fal's request id
# header is absent.
_SDK_RETRIED_STATUS_CODES = frozenset({408, 409, 429})
_INGRESS_STATUS_CODES = frozenset({502, 503, 504})


@functools.cache
def shared_ssl_context(trust_env: bool) -> ssl.SSLContext:
    """Return one TLS context per ``trust_env`` value, because building one parses the whole CA bundle."""
    return httpx.create_ssl_context(trust_env=trust_env)


def is_fal_host(host: str, extra_hosts: Iterable[str] = ()) -> bool:
    """Return True for fal's API and CDN hosts, plus ``extra_hosts``."""
    host = host.lower()
    return host in FAL_HOSTS or host.endswith(".fal.media") or host in {extra.lower() for extra in extra_hosts}


class SandboxRewriteTransport(httpx.AsyncBaseTransport):
    """Route requests for fal hosts to the stand-in at ``sandbox_url``; reject requests for any other host.

    Requests that already target the stand-in's origin pass unchanged. The ``Host`` header is rewritten
    too, so the stand-in builds its returned URLs from its own origin.
    """

    def __init__(
        self,
        sandbox_url: str,
        *,
        extra_hosts: Iterable[str] = (),
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        target = httpx.URL(sandbox_url)
        self._scheme = target.scheme
        self._host = target.host
        self._port = target.port
        self._netloc = target.netloc.decode("ascii")
        self._extra_hosts = frozenset(host.lower() for host in extra_hosts)
        self._inner = inner or httpx.AsyncHTTPTransport(trust_env=False, verify=shared_ssl_context(False))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if (url.scheme, url.host, url.port) == (self._scheme, self._host, self._port):
            return await self._inner.handle_async_request(request)
        if not is_fal_host(url.host, self._extra_hosts):
            raise FalRequestError(
                f"sandbox mode blocked a request to {url.scheme}://{url.host}: only fal hosts and the stand-in "
                f"at {self._scheme}://{self._netloc} are reachable. Use live mode to reach other hosts.",
                error_type="sandbox_host_blocked",
            )
        rewritten_url = url.copy_with(scheme=self._scheme, host=self._host, port=self._port)
        headers = request.headers.copy()
        headers["Host"] = self._netloc
        rewritten = httpx.Request(
            request.method,
            rewritten_url,
            headers=headers,
            stream=request.stream,
            extensions=dict(request.extensions),
        )
        return await self._inner.handle_async_request(rewritten)

    async def aclose(self) -> None:
        await self._inner.aclose()


# Connections per pool of a `ShardedTransport`. Each change in an httpcore pool (a request queued,
# a response closed) checks every connection, and every idle connection counts all the others
# (httpcore 1.0.9), so the work per request grows with the square of the pool's size.
SHARD_CONNECTIONS = 16


class ShardedTransport(httpx.AsyncBaseTransport):
    """Spread requests over several small connection pools, each made by `build(limits)`.

    `limits` is the total over all pools. Each request goes to the pool with the fewest responses
    still open, so a pool filled by long status streams does not hold requests back while others
    have room. With one pool of 100 connections, 44 % of a process's CPU went to httpcore's pool
    bookkeeping while 500 chains of fal requests ran at once. Pools of `SHARD_CONNECTIONS` keep that
    bookkeeping small.
    """

    def __init__(
        self, build: Callable[[httpx.Limits], httpx.AsyncBaseTransport], limits: httpx.Limits,
        *, shard_connections: int = SHARD_CONNECTIONS,
    ) -> None:
        total = limits.max_connections
        count = max(1, math.ceil(total / shard_connections)) if total is not None else 1
        keepalive = limits.max_keepalive_connections
        self.shard_limits = httpx.Limits(
            max_connections=math.ceil(total / count) if total is not None else None,
            max_keepalive_connections=math.ceil(keepalive / count) if keepalive is not None else None,
            keepalive_expiry=limits.keepalive_expiry,
        )
        self.shards = [build(self.shard_limits) for _ in range(count)]
        # Responses sent and not yet closed, per pool.
        self.open_responses = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self.open_responses.index(min(self.open_responses))
        self.open_responses[index] += 1
        try:
            response = await self.shards[index].handle_async_request(request)
        except BaseException:
            self.open_responses[index] -= 1
            raise
        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _ClosingStream(response.stream, functools.partial(self._closed, index))
        else:
            # Only an asynchronous body can report its close, so this one counts as closed at once.
            self._closed(index)
        return response

    def _closed(self, index: int) -> None:
        self.open_responses[index] -= 1

    async def aclose(self) -> None:
        for shard in self.shards:
            await shard.aclose()


class _ClosingStream(httpx.AsyncByteStream):
    """A response body that calls `on_close` once, when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, on_close: Callable[[], None]) -> None:
        self._inner = inner
        self._on_close: Callable[[], None] | None = on_close

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._inner.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._on_close is not None:
                on_close, self._on_close = self._on_close, None
                on_close()


class FailFastTransport(httpx.AsyncBaseTransport):
    """Raise ``FalRetryableError`` for every failure that fal-client would retry by itself.

    fal-client 1.0.3 retries transport errors, timeouts, HTTP 408/409/429 and ingress 502/503/504 (those
    without an ``x-fal-request-id`` header) up to ten times. It pauses 0.1 s at first and doubles the
    pause up to 10 s, about 30 s in all. It even repeats a submit whose response was lost, which can
    queue a paid job twice. Raising an exception that is not an httpx error here ends the call at once
    and leaves the retry decision to the caller.

    NOTE: a timeout while the SDK reads a response body happens after this transport returned, so
    fal-client still retries that one case by itself.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        operation = _operation_name(request)
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TimeoutException as exc:
            raise FalRetryableError(
                f"fal {operation} timed out ({type(exc).__name__}) talking to {request.url.host}; retry later",
                error_type="timeout",
            ) from exc
        except httpx.TransportError as exc:
            raise FalRetryableError(
                f"fal {operation} could not reach {request.url.host} ({type(exc).__name__}: {exc}); "
                "check the network or that the stand-in is running, then retry",
                error_type="connection_error",
            ) from exc
        if not _sdk_would_retry(response):
            return response
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        logger.debug(
            "fal.request.retryable_response",
            extra={"operation": operation, "status_code": response.status_code, "host": request.url.host},
        )
        error = error_from_response(
            response.status_code, decode_body(content), dict(response.headers), operation=operation
        )
        if isinstance(error, FalRetryableError):
            raise error
        raise FalRetryableError(error.message, status_code=response.status_code, error_type=error.error_type)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _sdk_would_retry(response: httpx.Response) -> bool:
    if response.status_code in _SDK_RETRIED_STATUS_CODES:
        return True
    return response.status_code in _INGRESS_STATUS_CODES and "x-fal-request-id" not in response.headers


def _operation_name(request: httpx.Request) -> str:
    path = request.url.path
    if path.endswith("/status") or path.endswith("/status/stream"):
        return "status"
    if path.endswith("/cancel"):
        return "cancel"
    if path.startswith("/storage/") or path.startswith("/files/"):
        return "upload"
    if request.method == "GET" and "/requests/" in path:
        return "result"
    if request.method == "POST":
        return "submit"
    return request.method.lower()
