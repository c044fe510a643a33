"""The fal error tree and the mapping from fal's HTTP error responses to it.

Every failure that leaves this package is a ``FalError``:

- ``FalValidationError``: fal rejected the input (HTTP 422); ``errors`` lists each parameter.
- ``FalAuthError``: the API key is missing or invalid (HTTP 401).
- ``FalAccountLockedError``: fal locked the account, usually because the balance is exhausted (HTTP 403).
- ``FalNotFoundError``: unknown endpoint or request id (HTTP 404).
- ``FalRetryableError``: rate limits (429), server errors (5xx), timeouts, connection errors, or any
  response that carries ``X-Fal-Retryable: true``. The same call may succeed later.
- ``FalRequestError``: any other rejection. Repeating the call unchanged will fail again.
- ``FalMediaError``: ``download_media`` rejected a URL or a response.
- ``FalConfigError``: the gateway configuration is invalid.

fal never reports a failed status: a request that fails ends ``COMPLETED`` and the error appears when
the result is fetched, so most model errors surface from ``FalGateway.result``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_MAX_DETAIL_CHARS = 500


@dataclass(frozen=True)
class FalFieldError:
    """One entry of the ``detail`` list in a fal 422 response."""

    loc: tuple[str | int, ...]
    message: str
    type: str
    url: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def param(self) -> str:
        """Dotted parameter path without fal's leading ``body`` segment, e.g. ``image_size.width``."""
        parts = list(self.loc)
        if parts and parts[0] == "body":
            parts = parts[1:]
        return ".".join(str(part) for part in parts) or "(request body)"


class FalError(Exception):
    """Root of every fal failure; ``retryable`` is True when repeating the same call can succeed."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        endpoint_id: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_type = error_type
        self.endpoint_id = endpoint_id
        self.request_id = request_id
        if retryable is not None:
            self.retryable = retryable

    def add_context(self, *, endpoint_id: str | None = None, request_id: str | None = None) -> None:
        """Fill in the endpoint and request ids where the raising layer did not know them."""
        if self.endpoint_id is None:
            self.endpoint_id = endpoint_id
        if self.request_id is None:
            self.request_id = request_id

    def __str__(self) -> str:
        context = []
        if self.endpoint_id:
            context.append(f"endpoint {self.endpoint_id}")
        if self.request_id:
            context.append(f"request {self.request_id}")
        if not context:
            return self.message
        return f"{self.message} ({', '.join(context)})"


class FalValidationError(FalError):
    """fal rejected one or more input parameters (HTTP 422)."""

    def __init__(self, message: str, *, errors: tuple[FalFieldError, ...], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors = errors


class FalAuthError(FalError):
    """fal rejected the API key, or no key was configured."""


class FalAccountLockedError(FalError):
    """fal locked the account; requests fail until the owner acts on fal's dashboard."""


class FalNotFoundError(FalError):
    """fal does not know the endpoint or the request id."""


class FalRetryableError(FalError):
    """A transient failure; the same call may succeed after a pause of ``retry_after`` seconds if given."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class FalRequestError(FalError):
    """fal rejected the call for a reason that repeating it unchanged will not fix."""


class FalMediaError(FalError):
    """``download_media`` rejected a URL or a response; ``reason`` is a stable code for the cause."""

    def __init__(self, message: str, *, reason: str, url: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason
        self.url = url


class FalConfigError(FalError, ValueError):
    """The gateway configuration is invalid."""


def error_from_response(
    status_code: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    operation: str,
) -> FalError:
    """Build the ``FalError`` for one non-2xx fal response.

    ``body`` is the decoded JSON body, or the raw text when the body is not JSON. ``operation`` names the
    call for the message (``submit``, ``status``, ``result``, ``cancel``, ``upload``).
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    retryable_header = _parse_retryable_header(lowered.get("x-fal-retryable"))
    error_type = _body_error_type(body) or lowered.get("x-fal-error-type")
    detail = _describe_detail(body)
    prefix = f"fal {operation} failed with HTTP {status_code}"

    if status_code == 422 and isinstance(body, dict) and isinstance(body.get("detail"), list):
        errors = tuple(_parse_field_error(item) for item in body["detail"] if isinstance(item, dict))
        listed = "; ".join(f"parameter '{error.param}': {error.message}" for error in errors)
        return FalValidationError(
            f"fal rejected the input: {listed or detail}. Fix these parameters and submit again.",
            errors=errors,
            status_code=status_code,
            error_type=error_type,
            retryable=bool(retryable_header),
        )
    if status_code == 401:
        return FalAuthError(
            f"{prefix}: {detail}. The FAL_KEY is not valid: create a key at https://fal.ai/dashboard/keys "
            "and configure it as '<key_id>:<key_secret>'.",
            status_code=status_code,
            error_type=error_type,
        )
    if status_code == 403:
        return FalAccountLockedError(
            f"{prefix}: {detail}. fal locked the account; top up the balance at "
            "https://fal.ai/dashboard/billing or contact fal support, then retry.",
            status_code=status_code,
            error_type=error_type,
        )
    if status_code == 404:
        return FalNotFoundError(
            f"{prefix}: {detail}. Check the endpoint id and the request id.",
            status_code=status_code,
            error_type=error_type,
        )
    if status_code == 504 and lowered.get("x-fal-request-timeout-type"):
        return FalRetryableError(
            f"{prefix}: {detail}. The request did not start before its start timeout expired.",
            status_code=status_code,
            error_type=error_type,
        )
    is_transient = status_code == 429 or status_code >= 500
    if retryable_header is True or (is_transient and retryable_header is not False):
        return FalRetryableError(
            f"{prefix}: {detail}. This is usually temporary; retry later.",
            status_code=status_code,
            error_type=error_type,
            retry_after=_parse_retry_after(lowered.get("retry-after")),
        )
    return FalRequestError(f"{prefix}: {detail}", status_code=status_code, error_type=error_type)


def decode_body(content: bytes) -> Any:
    """Decode a response body as JSON, or return it as text when it is not JSON."""
    text = content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse_field_error(item: Mapping[str, Any]) -> FalFieldError:
    raw_loc = item.get("loc")
    loc: tuple[str | int, ...] = ()
    if isinstance(raw_loc, list):
        loc = tuple(part if isinstance(part, (str, int)) else str(part) for part in raw_loc)
    context = item.get("ctx")
    url = item.get("url")
    return FalFieldError(
        loc=loc,
        message=str(item.get("msg", "invalid value")),
        type=str(item.get("type", "value_error")),
        url=url if isinstance(url, str) else None,
        context=context if isinstance(context, dict) else {},
    )


def _describe_detail(body: Any) -> str:
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, str):
            return _truncate(detail)
        if isinstance(detail, list):
            messages = [str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail]
            return _truncate("; ".join(messages))
        return _truncate(json.dumps(detail))
    if isinstance(body, str) and body.strip():
        return _truncate(body.strip())
    return "no error detail in the response"


def _body_error_type(body: Any) -> str | None:
    """Return the body's ``error_type``, else the ``type`` of the first ``detail`` entry."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("error_type"), str):
        return str(body["error_type"])
    detail = body.get("detail")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict) and isinstance(detail[0].get("type"), str):
        return str(detail[0]["type"])
    return None


def _parse_retryable_header(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in {"1", "true", "yes"}


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _truncate(text: str) -> str:
    if len(text) <= _MAX_DETAIL_CHARS:
        return text
    return text[:_MAX_DETAIL_CHARS] + "…"
