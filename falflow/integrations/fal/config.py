"""Configuration of ``FalGateway``: live mode (an API key) or sandbox mode (the URL of a running stand-in)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from falflow.integrations.fal.errors import FalConfigError

# The fal-client 1.0.3 SDK rejects start timeouts of 1 second or less.
_MIN_START_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class FalGatewayConfig:
    """Settings of one ``FalGateway``.

    With ``sandbox_url`` set, every call goes to the stand-in at that base URL (``http://127.0.0.1:PORT``)
    and ``key`` is optional. Without it the gateway talks to fal's real hosts and ``key`` is required.
    Durations are in seconds. ``poll_interval`` is the shortest pause between status polls; a request
    that keeps running is polled less often, every ``poll_backoff_ratio`` of its age up to
    ``poll_max_interval``, so a long video job costs tens of polls rather than thousands. ``request_timeout``
    bounds submit and upload calls, and ``start_timeout`` (optional) makes fal drop a request that has not
    started in time. ``watch_retry_limit`` is the number of transient status failures in a row that
    ``watch`` retries before raising. With ``status_stream`` set, ``watch`` reads fal's status stream
    and polls only when the stream fails or sends nothing (not even a keep-alive) for
    ``stream_idle_timeout``.
    """

    key: str | None = field(default=None, repr=False)
    sandbox_url: str | None = None
    poll_interval: float = 0.5
    poll_max_interval: float = 2.0
    poll_backoff_ratio: float = 0.1
    request_timeout: float = 60.0
    start_timeout: float | None = None
    watch_retry_limit: int = 5
    status_stream: bool = False
    stream_idle_timeout: float = 45.0

    def __post_init__(self) -> None:
        if self.poll_interval <= 0:
            raise FalConfigError(f"poll_interval must be positive seconds, got {self.poll_interval!r}.")
        if self.poll_max_interval <= 0:
            raise FalConfigError(f"poll_max_interval must be positive seconds, got {self.poll_max_interval!r}.")
        if not 0 <= self.poll_backoff_ratio <= 1:
            raise FalConfigError(f"poll_backoff_ratio must be between 0 and 1, got {self.poll_backoff_ratio!r}.")
        if self.request_timeout <= 0:
            raise FalConfigError(f"request_timeout must be positive seconds, got {self.request_timeout!r}.")
        if self.start_timeout is not None and self.start_timeout <= _MIN_START_TIMEOUT_SECONDS:
            raise FalConfigError(
                f"start_timeout must be more than {_MIN_START_TIMEOUT_SECONDS:g} s or None, got {self.start_timeout!r}."
            )
        if self.stream_idle_timeout <= 0:
            raise FalConfigError(f"stream_idle_timeout must be positive seconds, got {self.stream_idle_timeout!r}.")
        if self.watch_retry_limit < 0:
            raise FalConfigError(f"watch_retry_limit must be 0 or more, got {self.watch_retry_limit!r}.")
        if self.sandbox_url is not None:
            object.__setattr__(self, "sandbox_url", normalize_sandbox_url(self.sandbox_url))
        elif not self.key:
            raise FalConfigError(
                "FalGatewayConfig.key is missing: set a fal API key ('<key_id>:<key_secret>') for live mode, "
                "or set sandbox_url to the base URL of a running fal stand-in."
            )

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox_url is not None


def normalize_sandbox_url(url: str) -> str:
    """Return ``scheme://host:port`` for a stand-in base URL, or raise ``FalConfigError`` naming the problem."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FalConfigError(f"sandbox_url {url!r} is not a valid URL: {exc}.") from exc
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise FalConfigError(f"sandbox_url {url!r} must be an http(s) URL with a host, e.g. http://127.0.0.1:8710.")
    if parsed.path not in {"", "/"} or parsed.query or parsed.fragment:
        raise FalConfigError(
            f"sandbox_url {url!r} must be a bare origin without a path or query, e.g. http://127.0.0.1:8710."
        )
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{host}{port}"


def poll_delay(config: FalGatewayConfig, base: float, age: float) -> float:
    """Return the pause before the next status poll of a request watched for `age` seconds."""
    grown = min(config.poll_max_interval, config.poll_backoff_ratio * age)
    return max(base, grown)
