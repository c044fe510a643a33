"""error_from_response maps fal's HTTP error responses to the FalError tree (pure function)."""

from __future__ import annotations

from typing import Any

import pytest

from falflow.integrations.fal import (
    FalAccountLockedError,
    FalAuthError,
    FalError,
    FalNotFoundError,
    FalRequestError,
    FalRetryableError,
    FalValidationError,
)
from falflow.integrations.fal.errors import error_from_response


@pytest.mark.parametrize(
    ("status_code", "body", "headers", "expected", "retryable"),
    [
        (401, {"detail": "No user found for Key ID and Secret"}, {}, FalAuthError, False),
        (403, {"detail": "User is locked. Reason: Exhausted balance."}, {}, FalAccountLockedError, False),
        (404, {"detail": "Not Found"}, {}, FalNotFoundError, False),
        (429, {"detail": "Too many requests"}, {"Retry-After": "2"}, FalRetryableError, True),
        (500, {"detail": "boom"}, {}, FalRetryableError, True),
        (503, "upstream connect error", {}, FalRetryableError, True),
        (500, {"detail": "bad input image"}, {"X-Fal-Retryable": "false"}, FalRequestError, False),
        (400, {"detail": "temporarily busy"}, {"x-fal-retryable": "true"}, FalRetryableError, True),
        (400, {"detail": "bad request"}, {}, FalRequestError, False),
        (504, {"detail": "start timeout"}, {"X-Fal-Request-Timeout-Type": "user"}, FalRetryableError, True),
        (422, {"detail": "prompt is required"}, {}, FalRequestError, False),
    ],
)
def test_status_codes_map_to_classes(
    status_code: int, body: Any, headers: dict[str, str], expected: type[FalError], retryable: bool
) -> None:
    error = error_from_response(status_code, body, headers, operation="submit")

    assert type(error) is expected
    assert error.retryable is retryable
    assert error.status_code == status_code
    assert f"HTTP {status_code}" in str(error) or isinstance(error, FalValidationError)


def test_validation_error_keeps_structured_detail() -> None:
    body = {
        "detail": [
            {"loc": ["body", "image_size", "width"], "msg": "Input should be greater than 0", "type": "greater_than"},
            {
                "loc": ["body", "prompt"],
                "msg": "Field required",
                "type": "missing",
                "url": "https://errors.pydantic.dev",
            },
        ]
    }

    error = error_from_response(422, body, {"x-fal-retryable": "false"}, operation="result")

    assert isinstance(error, FalValidationError)
    assert [field.param for field in error.errors] == ["image_size.width", "prompt"]
    assert error.errors[1].url == "https://errors.pydantic.dev"
    assert error.error_type == "greater_than"
    assert "parameter 'image_size.width': Input should be greater than 0" in str(error)
    assert "parameter 'prompt': Field required" in str(error)
    assert error.retryable is False


def test_retry_after_and_error_type_header() -> None:
    error = error_from_response(
        429, {"detail": "slow down"}, {"Retry-After": "3", "X-Fal-Error-Type": "rate"}, operation="status"
    )

    assert isinstance(error, FalRetryableError)
    assert error.retry_after == 3.0
    assert error.error_type == "rate"


def test_context_is_added_once() -> None:
    error = error_from_response(404, {"detail": "Not Found"}, {}, operation="status")

    error.add_context(endpoint_id="fal-ai/flux/dev", request_id="abc")
    error.add_context(endpoint_id="other", request_id="other")

    assert str(error).endswith("(endpoint fal-ai/flux/dev, request abc)")


def test_long_detail_is_truncated() -> None:
    error = error_from_response(400, "x" * 5000, {}, operation="submit")

    assert len(str(error)) < 700
