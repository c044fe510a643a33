"""HTTP plumbing shared by every router: error mapping and request ids.

All errors leave the API as JSON `{"error": <type>, "detail": <what failed and what to do>}`;
validation errors add an `errors` list with one entry per field. No stack trace reaches a client.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from falflow.kit.errors import FalflowError, RateLimitedError
from falflow.kit.logging import request_id_var

logger = logging.getLogger("falflow.http")

_HTTP_ERROR_TYPES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class RequestIdMiddleware:
    """Tag each request with an id (the caller's `X-Request-Id` when sane) for logs and replies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def json_safe(value: Any) -> Any:
    """Make a value safe for a JSON error body: finite numbers, valid UTF-8, short strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)
    if isinstance(value, str):
        text = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return text if len(text) <= 80 else text[:77] + "..."
    if isinstance(value, dict):
        return {json_safe(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


class BodySizeLimitMiddleware:
    """Reject request bodies over `max_bytes`: a larger Content-Length gets 413 before anything is read.

    A chunked body that grows past the limit is cut off while it streams. NOTE: FastAPI's error
    middleware may already have sent a 500 by then; the upload and webhook routes enforce
    their own streaming limits with a proper 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = SafeJSONResponse(
            {"error": "payload_too_large",
             "detail": f"The request body is larger than {self.max_bytes} bytes; send less data (large files go to POST /api/assets)."},
            status_code=413,
        )
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


def _describe_validation_error(error: dict[str, Any]) -> dict[str, Any]:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
    if error.get("type") == "json_invalid":
        position = location[0] if location else "?"
        return {"field": "body", "value": None,
                "message": f"body: not valid JSON ({error.get('ctx', {}).get('error', 'syntax error')} at character {position})"}
    field = ".".join(location) or str(error.get("loc", ["request"])[0])
    value = error.get("input")
    shown = value if isinstance(value, (str, int, float, bool)) or value is None else type(value).__name__
    return {"field": json_safe(field), "value": json_safe(shown), "message": json_safe(f"{field}: {error.get('msg', 'is invalid')}")}


class SafeJSONResponse(JSONResponse):
    """A JSON response that renders NaN, infinities and lone surrogates in error values as text instead of failing."""

    def render(self, content: Any) -> bytes:
        return json.dumps(json_safe_deep(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8", "backslashreplace"
        )


def json_safe_deep(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {json_safe_deep(str(k)): json_safe_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe_deep(v) for v in value]
    return value


def install_error_handlers(app: FastAPI) -> None:
    """Map falflow errors, validation failures and stray exceptions to JSON bodies."""

    @app.exception_handler(FalflowError)
    async def _falflow_error(_request: Request, exc: FalflowError) -> JSONResponse:
        headers = {}
        if isinstance(exc, RateLimitedError):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        return SafeJSONResponse(exc.to_body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_describe_validation_error(dict(e)) for e in exc.errors()]
        summary = "; ".join(
            f"{e['message']} (got {e['value']!r})" if e["value"] is not None else e["message"] for e in errors[:5]
        )
        return SafeJSONResponse(
            {"error": "validation_error", "detail": f"Invalid request: {summary}. Fix the listed fields and retry.",
             "errors": errors},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No API route matches {request.method} {request.url.path}; see /api/openapi.json."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}; see /api/openapi.json."
        return JSONResponse(
            {"error": _HTTP_ERROR_TYPES.get(exc.status_code, "http_error"), "detail": detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("http.unhandled_error", extra={"error_class": type(exc).__name__})
        return JSONResponse(
            {"error": "internal_error",
             "detail": f"Unexpected server error; retry later, and quote request id {request_id_var.get()} if it persists."},
            status_code=500,
        )
