"""The one error root of falflow and its HTTP-facing subclasses.

Services raise these; `falflow.kit.http` maps them to responses in one place. Every message
names what failed, on which value, and what to do next, because it reaches users verbatim.
"""

from __future__ import annotations

from typing import Any


class FalflowError(Exception):
    """Base of every expected failure; `status_code` is the HTTP status it maps to."""

    status_code: int = 500
    error_type: str = "internal_error"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error_type, "detail": self.detail}
        body.update(self.extra)
        return body


class BadRequestError(FalflowError):
    status_code = 400
    error_type = "bad_request"


class NotAuthenticatedError(FalflowError):
    status_code = 401
    error_type = "not_authenticated"


class PaymentRequiredError(FalflowError):
    status_code = 402
    error_type = "insufficient_credits"


class ForbiddenError(FalflowError):
    status_code = 403
    error_type = "forbidden"


class NotFoundError(FalflowError):
    status_code = 404
    error_type = "not_found"

    @classmethod
    def for_resource(cls, kind: str, resource_id: object) -> NotFoundError:
        return cls(f"{kind} '{resource_id}' was not found; check the id, and that it belongs to you.")


class ConflictError(FalflowError):
    status_code = 409
    error_type = "conflict"


class PayloadTooLargeError(FalflowError):
    status_code = 413
    error_type = "payload_too_large"


class UnsupportedMediaTypeError(FalflowError):
    status_code = 415
    error_type = "unsupported_media_type"


class InvalidInputError(FalflowError):
    """A request that parsed but breaks a rule; `errors` lists each field that failed."""

    status_code = 422
    error_type = "validation_error"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, extra={"errors": errors or []})
        self.errors = errors or []


class RateLimitedError(FalflowError):
    status_code = 429
    error_type = "rate_limited"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, extra={"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailableError(FalflowError):
    status_code = 503
    error_type = "service_unavailable"


class ConfigurationError(Exception):
    """A setting that prevents start-up; raised before the app serves anything."""
