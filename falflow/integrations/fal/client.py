"""``FalGateway``: falflow's typed adapter over fal's queue API, and the only module that imports fal_client.

How requests reach the stand-in (facts about fal-client 1.0.3):

- ``fal_client.AsyncClient`` sends queue calls (submit, status, result, cancel) and the ``fal`` storage
  upload through an ``httpx.AsyncClient`` that its ``_client`` property builds once per instance.
- The CDN upload token comes from ``AsyncCDNTokenManager._refresh_token``, which opens its own plain
  ``httpx.AsyncClient`` for ``POST https://rest.fal.ai/storage/auth/token``. The upload itself
  (``POST https://v3.fal.media/files/upload``) goes through a client that ``_cdn_client`` opens per call.
- Hosts come from module constants (``QUEUE_URL_FORMAT``, ``RUN_URL_FORMAT``, ``REST_URL``, ``CDN_URL``),
  partly derived from ``FAL_RUN_HOST``/``FAL_QUEUE_RUN_HOST`` when ``fal_client.auth`` is first imported,
  and the scheme is always https.

``_RoutedAsyncClient`` subclasses ``AsyncClient`` and overrides exactly those three places (``_client``,
``_token_manager`` and ``_cdn_client``) so that every HTTP request passes through transports chosen
per instance. In sandbox mode a ``SandboxRewriteTransport`` routes fal's hosts, including whatever the
module constants name, to the stand-in over plain HTTP. In live mode the SDK's own
``AsyncBackupDomainTransport`` stays underneath. Both modes add ``FailFastTransport``, which ends a call
on the first retryable failure instead of letting the SDK retry it. Status streams, which fal-client
does not offer, go through a second client with a connection pool of its own (`stream_client`). No module constant
and no environment variable is changed, so live and sandbox gateways can coexist in one process. The
overrides rely on private names of fal-client 1.0.3; upgrading the SDK means rechecking them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any

import fal_client
import httpx
from fal_client import client as fal_sdk
from fal_client.auth import AuthCredentials, MissingCredentialsError
from fal_client.client import (
    AsyncBackupDomainTransport,
    AsyncCDNTokenManager,
    CDNToken,
    Completed,
    FalClientError,
    FalClientHTTPError,
    FalClientTimeoutError,
    InProgress,
    Queued,
    Status,
)

from falflow.integrations.fal.config import FalGatewayConfig, poll_delay
from falflow.integrations.fal.download import DownloadedFile, MediaHostPolicy, download_media
from falflow.integrations.fal.errors import (
    FalAuthError,
    FalError,
    FalRequestError,
    FalRetryableError,
    decode_body,
    error_from_response,
)
from falflow.integrations.fal.models import CancelOutcome, FalLog, FalRequestState, FalStatus, SubmittedRequest
from falflow.integrations.fal.transport import (
    FailFastTransport,
    SandboxRewriteTransport,
    ShardedTransport,
    shared_ssl_context,
)

logger = logging.getLogger(__name__)

# The stand-in accepts any key unless configured otherwise. Sandbox mode without a key sends this
# placeholder, so the SDK does not look for credentials in the environment or in ~/.fal.
_SANDBOX_PLACEHOLDER_KEY = "sandbox:sandbox"
_MAX_WATCH_BACKOFF_SECONDS = 30.0
# Short queue calls (submit, status, result, cancel) share one pool. httpx's default keeps only 20
# idle connections, so after a burst of more than 20 calls at once it closed the connections it
# would need again.
QUEUE_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
# Status streams get a pool of their own, because each keeps its connection for the request's whole run.
# In the shared pool (100 connections by default), 500 runs' streams left submits and results
# queued behind them, and httpcore's pool scans every queued request against every connection on
# each change. The engine's cap per event loop (FALFLOW_RUN_GLOBAL_CONCURRENCY) bounds the streams
# in practice, and the pool's own limit is a backstop.
STREAM_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=None)

_ENDPOINT_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)+|\d+-[A-Za-z0-9-]+)$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][\w-]{0,127}$")

# Exceptions that the SDK and httpx raise for failed calls. ValueError and KeyError cover responses
# that the SDK cannot parse (an unknown status string, a missing field, a body that is not JSON).
_SDK_ERRORS: tuple[type[BaseException], ...] = (
    FalError,
    FalClientError,
    httpx.HTTPError,
    MissingCredentialsError,
    ValueError,
    KeyError,
)


class _Routes:
    """Transports for one gateway: the stand-in in sandbox mode, fal's hosts in live mode."""

    def __init__(self, sandbox_url: str | None) -> None:
        self.sandbox_url = sandbox_url

    @property
    def trust_env(self) -> bool:
        # Sandbox traffic stays on this machine, so environment proxies must not capture it.
        return self.sandbox_url is None

    def queue_transport(self, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
        if self.sandbox_url is not None:
            inner = ShardedTransport(_sandbox_pool, limits)
            return FailFastTransport(SandboxRewriteTransport(self.sandbox_url, extra_hosts=_sdk_hosts(), inner=inner))
        return FailFastTransport(ShardedTransport(_PooledBackupDomainTransport, limits))

    def plain_transport(self) -> httpx.AsyncBaseTransport:
        if self.sandbox_url is not None:
            return FailFastTransport(SandboxRewriteTransport(self.sandbox_url, extra_hosts=_sdk_hosts()))
        return FailFastTransport(httpx.AsyncHTTPTransport(verify=shared_ssl_context(True)))


class _PooledBackupDomainTransport(AsyncBackupDomainTransport):
    """fal-client's live transport, which retries on a backup domain when fal's host is unreachable, with pool limits.

    The parent builds its client without pool settings. Passing it a `transport=` would turn off
    httpx's proxies from the environment (HTTPS_PROXY), so this builds the client itself instead.
    The parent's `__init__` only sets `_client` (fal-client 1.0.3), so it is not called.
    """

    def __init__(self, limits: httpx.Limits) -> None:
        self._client = httpx.AsyncClient(limits=limits, verify=shared_ssl_context(True), follow_redirects=False)


def _sandbox_pool(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(trust_env=False, verify=shared_ssl_context(False), limits=limits)


def _sdk_hosts() -> list[str]:
    """Hosts in the SDK's module constants, which may differ from fal's defaults via FAL_RUN_HOST."""
    urls = [fal_sdk.QUEUE_URL_FORMAT, fal_sdk.RUN_URL_FORMAT, fal_sdk.REST_URL, fal_sdk.CDN_URL]
    return [httpx.URL(url).host for url in urls]


class _RoutedTokenManager(AsyncCDNTokenManager):
    """CDN token manager that fetches tokens through the gateway's transport.

    The parsing mirrors fal-client 1.0.3's ``AsyncCDNTokenManager._refresh_token``; only the HTTP client
    differs.
    """

    def __init__(self, auth: AuthCredentials, routes: _Routes) -> None:
        super().__init__(auth)
        self._routes = routes

    async def _refresh_token(self) -> CDNToken:
        async with httpx.AsyncClient(
            transport=self._routes.plain_transport(), trust_env=self._routes.trust_env
        ) as client:
            response = await client.post(self._url, headers=self._headers, json={})
            response.raise_for_status()
            data = response.json()
        return CDNToken(
            token=data["token"],
            token_type=data["token_type"],
            base_upload_url=data["base_url"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
        )


class _RoutedAsyncClient(fal_client.AsyncClient):
    """``fal_client.AsyncClient`` whose HTTP traffic goes through the gateway's transports."""

    def __init__(self, *, key: str, default_timeout: float, routes: _Routes) -> None:
        super().__init__(key=key, default_timeout=default_timeout)
        self._routes = routes
        self._http_client: httpx.AsyncClient | None = None
        self._stream_client: httpx.AsyncClient | None = None
        self._cdn_tokens: _RoutedTokenManager | None = None

    @property
    def _client(self) -> Awaitable[httpx.AsyncClient]:
        return self._get_http_client()

    @property
    def _token_manager(self) -> Awaitable[AsyncCDNTokenManager]:
        return self._get_token_manager()

    @asynccontextmanager
    async def _cdn_client(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(
            transport=self._routes.plain_transport(),
            headers={"User-Agent": fal_sdk.USER_AGENT},
            timeout=self.default_timeout,
            trust_env=self._routes.trust_env,
        ) as client:
            yield client

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()
            self._http_client = None
        if self._stream_client is not None:
            await self._stream_client.aclose()
            self._stream_client = None

    def _credentials(self) -> AuthCredentials:
        return AuthCredentials("Key", self.key or _SANDBOX_PLACEHOLDER_KEY)

    async def _get_http_client(self) -> httpx.AsyncClient:
        # Built without an await between the check and the assignment, so concurrent callers share one client.
        if self._http_client is None:
            self._http_client = self._new_queue_client(QUEUE_LIMITS)
        return self._http_client

    def stream_client(self) -> httpx.AsyncClient:
        """Return the client for status streams, a pool of its own (see `STREAM_LIMITS`)."""
        if self._stream_client is None:
            self._stream_client = self._new_queue_client(STREAM_LIMITS)
        return self._stream_client

    def _new_queue_client(self, limits: httpx.Limits) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._routes.queue_transport(limits),
            headers={"Authorization": self._credentials().header_value, "User-Agent": fal_sdk.USER_AGENT},
            timeout=self.default_timeout,
            trust_env=self._routes.trust_env,
        )

    async def _get_token_manager(self) -> AsyncCDNTokenManager:
        if self._cdn_tokens is None:
            self._cdn_tokens = _RoutedTokenManager(self._credentials(), self._routes)
        return self._cdn_tokens


class FalGateway:
    """Submit, observe, fetch and cancel fal requests, upload inputs and download outputs.

    Every method raises ``FalError`` subclasses only (see ``falflow.integrations.fal.errors``). The
    gateway owns one HTTP connection pool, which binds to the event loop of its first call, so use one
    gateway per event loop and close it with ``aclose()`` or ``async with``.
    """

    def __init__(self, config: FalGatewayConfig) -> None:
        self._config = config
        self._sdk = _RoutedAsyncClient(
            key=config.key or _SANDBOX_PLACEHOLDER_KEY,
            default_timeout=config.request_timeout,
            routes=_Routes(config.sandbox_url),
        )
        self._media_policy = MediaHostPolicy(sandbox_url=config.sandbox_url)

    @property
    def config(self) -> FalGatewayConfig:
        return self._config

    async def __aenter__(self) -> FalGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._sdk.aclose()

    async def submit(
        self,
        endpoint_id: str,
        arguments: Mapping[str, Any],
        *,
        webhook_url: str | None = None,
    ) -> SubmittedRequest:
        """Queue a request and return as soon as fal accepted it.

        fal-client's own retries are cut short (see ``FailFastTransport``), so a failed submit is not
        repeated behind the caller's back. After a ``FalRetryableError`` from a timeout, fal may still have
        queued the job, so a blind resubmit can run it twice.
        """
        _check_endpoint_id(endpoint_id)
        try:
            handle = await self._sdk.submit(
                endpoint_id,
                dict(arguments),
                webhook_url=webhook_url,
                start_timeout=self._config.start_timeout,
            )
        except _SDK_ERRORS as exc:
            raise _translate(exc, operation="submit", endpoint_id=endpoint_id) from exc
        logger.info("fal.request.submitted", extra={"endpoint_id": endpoint_id, "request_id": handle.request_id})
        return SubmittedRequest(
            request_id=handle.request_id,
            endpoint_id=endpoint_id,
            status_url=handle.status_url,
            response_url=handle.response_url,
            cancel_url=handle.cancel_url,
        )

    async def status(self, endpoint_id: str, request_id: str, *, with_logs: bool = True) -> FalStatus:
        """Return the current state of a request, with every log line so far when ``with_logs`` is set."""
        _check_ids(endpoint_id, request_id)
        try:
            status = await self._sdk.status(endpoint_id, request_id, with_logs=with_logs)
        except _SDK_ERRORS as exc:
            raise _translate(exc, operation="status", endpoint_id=endpoint_id, request_id=request_id) from exc
        return _to_fal_status(endpoint_id, request_id, status)

    async def watch(
        self,
        endpoint_id: str,
        request_id: str,
        *,
        poll_interval: float | None = None,
        logs_seen: int = 0,
    ) -> AsyncIterator[FalStatus]:
        """Follow a request and yield each change until it completes; the completed status is always yielded.

        A change is a new state, a new queue position or new log lines. Each yielded status carries only
        the log lines not yielded before. To resume after an error, pass the last ``logs_seen``.

        With ``status_stream`` set, the gateway reads fal's status stream (server-sent events), which
        reports each change as it happens with one request. If the stream fails, ends early or stays
        silent past ``stream_idle_timeout``, the gateway polls instead. Up to ``watch_retry_limit``
        transient poll failures in a row are retried with exponential backoff. Polls start
        ``poll_interval`` apart and spread out as the request ages (see ``poll_delay``).
        """
        changes = _ChangeFilter(logs_seen)
        # A resumed watch polls: a stream opened mid-request may not repeat the lines seen before.
        if self._config.status_stream and logs_seen == 0:
            try:
                async with contextlib.aclosing(self._stream_statuses(endpoint_id, request_id)) as statuses:
                    async for status in statuses:
                        change = changes.take_event(status)
                        if change is not None:
                            yield change
                        if status.is_completed:
                            return
                reason = "the stream ended before the request completed"
            except FalError as exc:
                reason = str(exc)
            logger.info(
                "fal.status.stream_failed",
                extra={"endpoint_id": endpoint_id, "request_id": request_id, "error": reason[:300]},
            )
        interval = poll_interval if poll_interval is not None else self._config.poll_interval
        started = asyncio.get_running_loop().time()
        failures = 0
        while True:
            try:
                status = await self.status(endpoint_id, request_id, with_logs=True)
            except FalError as exc:
                if not exc.retryable or failures >= self._config.watch_retry_limit:
                    raise
                failures += 1
                delay = _backoff_seconds(exc, interval, failures)
                logger.info(
                    "fal.status.retrying",
                    extra={"endpoint_id": endpoint_id, "request_id": request_id, "attempt": failures, "delay": delay},
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            change = changes.take_snapshot(status)
            if change is not None:
                yield change
            if status.is_completed:
                return
            await asyncio.sleep(poll_delay(self._config, interval, asyncio.get_running_loop().time() - started))

    async def _stream_statuses(self, endpoint_id: str, request_id: str) -> AsyncIterator[FalStatus]:
        """Yield every status that fal's status stream sends; raise ``FalError`` when the stream fails."""
        # NOTE: only the stand-in, which follows fal's documented stream format, has served this here.
        # fal's JavaScript client still polls by default "until status streaming is stable and faster",
        # hence the fallback.
        _check_ids(endpoint_id, request_id)
        try:
            handle = await self._sdk.get_handle(endpoint_id, request_id)
            timeout = httpx.Timeout(self._config.request_timeout, read=self._config.stream_idle_timeout)
            async with self._sdk.stream_client().stream(
                "GET", f"{handle.status_url}/stream", params={"logs": "1"}, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise error_from_response(
                        response.status_code, decode_body(response.content), dict(response.headers), operation="status"
                    )
                async for data in _sse_data(response.aiter_lines()):
                    event = json.loads(data)
                    if not isinstance(event, dict):
                        raise ValueError(f"a status stream event is a JSON {type(event).__name__}, expected an object")
                    yield _to_fal_status(endpoint_id, request_id, handle._parse_status(event))
        except _SDK_ERRORS as exc:
            raise _translate(exc, operation="status", endpoint_id=endpoint_id, request_id=request_id) from exc

    async def result(self, endpoint_id: str, request_id: str, *, completed: bool = False) -> dict[str, Any]:
        """Return the output JSON of a request, waiting for it to complete first unless ``completed`` is set.

        Pass ``completed=True`` once ``watch`` has yielded the completed status: the output is then
        fetched at once, without fal-client's status poll before it. A request that failed in the model
        raises here (``FalValidationError`` for rejected input), because fal reports failures only on the
        result. The wait has no deadline: bound it with ``asyncio.timeout``.
        """
        _check_ids(endpoint_id, request_id)
        try:
            handle = await self._sdk.get_handle(endpoint_id, request_id)
            if completed:
                # The same call as the end of `AsyncRequestHandle.get` in fal-client 1.0.3.
                response = await fal_sdk._async_maybe_retry_request(
                    handle.client, "GET", handle.response_url, timeout=fal_sdk.QUEUE_POLL_TIMEOUT
                )
                fal_sdk._raise_for_status(response)
                output = response.json()
            else:
                output = await handle.get(interval=self._config.poll_interval)
        except _SDK_ERRORS as exc:
            raise _translate(exc, operation="result", endpoint_id=endpoint_id, request_id=request_id) from exc
        if not isinstance(output, dict):
            raise FalRequestError(
                f"fal result is a JSON {type(output).__name__}, expected an object",
                endpoint_id=endpoint_id,
                request_id=request_id,
            )
        logger.info("fal.request.result_fetched", extra={"endpoint_id": endpoint_id, "request_id": request_id})
        return output

    async def cancel(self, endpoint_id: str, request_id: str) -> CancelOutcome:
        """Ask fal to cancel a request; a queued request is dropped, a running one gets a cancel signal."""
        _check_ids(endpoint_id, request_id)
        try:
            await self._sdk.cancel(endpoint_id, request_id)
        except FalClientHTTPError as exc:
            body = _response_body(exc.response)
            if exc.status_code == 400 and isinstance(body, dict) and body.get("status") == "ALREADY_COMPLETED":
                return CancelOutcome.ALREADY_COMPLETED
            if exc.status_code == 404:
                return CancelOutcome.NOT_FOUND
            raise _translate(exc, operation="cancel", endpoint_id=endpoint_id, request_id=request_id) from exc
        except _SDK_ERRORS as exc:
            raise _translate(exc, operation="cancel", endpoint_id=endpoint_id, request_id=request_id) from exc
        logger.info("fal.request.cancel_requested", extra={"endpoint_id": endpoint_id, "request_id": request_id})
        return CancelOutcome.REQUESTED

    async def upload(self, data: bytes, content_type: str, file_name: str) -> str:
        """Upload bytes to fal's storage and return a URL that fal endpoints can fetch."""
        try:
            url = await self._sdk.upload(data, content_type, file_name)
        except _SDK_ERRORS as exc:
            raise _translate(exc, operation="upload", endpoint_id=None) from exc
        logger.info("fal.upload.completed", extra={"size_bytes": len(data), "content_type": content_type})
        return url

    def is_allowed_media_url(self, url: str) -> bool:
        """Return True if ``download_media`` would accept the URL's scheme and host."""
        return self._media_policy.is_allowed(url)

    async def download_media(
        self,
        url: str,
        *,
        max_bytes: int,
        allowed_content_types: Collection[str],
    ) -> DownloadedFile:
        """Download an output file from fal's media hosts (and the stand-in in sandbox mode)."""
        return await download_media(
            url,
            max_bytes=max_bytes,
            allowed_content_types=allowed_content_types,
            sandbox_url=self._config.sandbox_url,
            timeout=self._config.request_timeout,
        )


class _ChangeFilter:
    """Turn statuses into changes that carry only the log lines not yielded before.

    A polled status carries every line so far. A stream event carries only lines new since the
    previous event (fal's JavaScript client appends them), but an event that repeats every line seen so far
    first, as a full status would, is understood too.
    """

    def __init__(self, logs_seen: int) -> None:
        self._seen = logs_seen
        self._lines: list[FalLog] = []
        self._last: tuple[FalRequestState, int | None] | None = None

    def take_snapshot(self, status: FalStatus) -> FalStatus | None:
        new_logs = status.logs[self._seen:]
        self._seen = max(self._seen, len(status.logs))
        return self._change(status, new_logs)

    def take_event(self, status: FalStatus) -> FalStatus | None:
        known = len(self._lines)
        repeats = known > 0 and status.logs[:known] == self._lines
        new_logs = status.logs[known:] if repeats else status.logs
        self._lines.extend(new_logs)
        self._seen += len(new_logs)
        return self._change(status, new_logs)

    def _change(self, status: FalStatus, new_logs: list[FalLog]) -> FalStatus | None:
        position = (status.state, status.queue_position)
        if not new_logs and position == self._last and not status.is_completed:
            return None
        self._last = position
        return replace(status, logs=new_logs, logs_seen=self._seen)


async def _sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield the data of each server-sent event; comment lines (keep-alives) are skipped."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield "\n".join(data)


def _check_endpoint_id(endpoint_id: str) -> None:
    if not _ENDPOINT_ID.match(endpoint_id):
        raise FalRequestError(
            f"endpoint_id {endpoint_id!r} is not a fal endpoint id; use the form 'owner/app[/path]', "
            "e.g. 'fal-ai/flux/dev'.",
            error_type="invalid_endpoint_id",
        )


def _check_ids(endpoint_id: str, request_id: str) -> None:
    _check_endpoint_id(endpoint_id)
    if not _REQUEST_ID.match(request_id):
        raise FalRequestError(
            f"request_id {request_id!r} is not a fal request id; pass the request_id that submit returned.",
            endpoint_id=endpoint_id,
            error_type="invalid_request_id",
        )


def _to_fal_status(endpoint_id: str, request_id: str, status: Status) -> FalStatus:
    if isinstance(status, Queued):
        return FalStatus(endpoint_id, request_id, FalRequestState.QUEUED, queue_position=status.position)
    if isinstance(status, InProgress):
        logs = _parse_logs(status.logs)
        return FalStatus(endpoint_id, request_id, FalRequestState.IN_PROGRESS, logs=logs, logs_seen=len(logs))
    if isinstance(status, Completed):
        logs = _parse_logs(status.logs)
        return FalStatus(
            endpoint_id,
            request_id,
            FalRequestState.COMPLETED,
            logs=logs,
            logs_seen=len(logs),
            metrics=dict(status.metrics or {}),
            error=status.error,
            error_type=status.error_type,
        )
    raise FalRequestError(
        f"fal status has the unknown type {type(status).__name__}",
        endpoint_id=endpoint_id,
        request_id=request_id,
    )


def _parse_logs(raw_logs: list[dict[str, Any]] | None) -> list[FalLog]:
    logs = []
    for item in raw_logs or []:
        logs.append(
            FalLog(
                message=str(item.get("message", "")),
                level=str(item.get("level") or "INFO"),
                timestamp=_parse_timestamp(item.get("timestamp")),
            )
        )
    return logs


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _backoff_seconds(error: FalError, interval: float, attempt: int) -> float:
    if isinstance(error, FalRetryableError) and error.retry_after is not None:
        return min(error.retry_after, _MAX_WATCH_BACKOFF_SECONDS)
    return min(interval * 2.0**attempt, _MAX_WATCH_BACKOFF_SECONDS)


def _response_body(response: httpx.Response) -> Any:
    try:
        return decode_body(response.content)
    except httpx.ResponseNotRead:
        return None


def _translate(
    exc: BaseException,
    *,
    operation: str,
    endpoint_id: str | None,
    request_id: str | None = None,
) -> FalError:
    """Map an SDK or httpx exception to the matching ``FalError``."""
    error: FalError
    if isinstance(exc, FalError):
        error = exc
    elif isinstance(exc, FalClientHTTPError):
        error = error_from_response(
            exc.status_code, _response_body(exc.response), exc.response_headers, operation=operation
        )
    elif isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        error = error_from_response(
            response.status_code, _response_body(response), dict(response.headers), operation=operation
        )
    elif isinstance(exc, FalClientTimeoutError):
        error = FalRetryableError(f"fal {operation} timed out after {exc.timeout:g} s", error_type="timeout")
    elif isinstance(exc, httpx.TimeoutException):
        error = FalRetryableError(
            f"fal {operation} timed out ({type(exc).__name__}); retry later", error_type="timeout"
        )
    elif isinstance(exc, httpx.HTTPError):
        error = FalRetryableError(
            f"fal {operation} failed to reach fal ({type(exc).__name__}: {exc}); check the network and retry",
            error_type="connection_error",
        )
    elif isinstance(exc, MissingCredentialsError):
        error = FalAuthError(
            f"fal {operation} has no credentials: {exc}. Configure the FAL_KEY in falflow's settings.",
            error_type="missing_credentials",
        )
    else:
        error = FalRequestError(
            f"fal {operation} returned a response that fal-client could not parse: {type(exc).__name__}: {exc}",
            error_type="invalid_response",
        )
    error.add_context(endpoint_id=endpoint_id, request_id=request_id)
    return error
