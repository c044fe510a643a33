"""Reporting of actions that a service rejected: one log line and one toast."""

from __future__ import annotations

import logging

import reflex as rx

from falflow.kit.errors import FalflowError

logger = logging.getLogger("falflow.ui")


def log_rejection(event: str, exc: FalflowError, **ids: object) -> None:
    """Log an expected failure (4xx or 503) with its type and the ids involved, never its payload."""
    logger.info(event, extra={"error_type": exc.error_type, "status_code": exc.status_code,
                              **{name: str(value) for name, value in ids.items()}})


def rejection_toast(event: str, exc: FalflowError, **ids: object) -> rx.event.EventSpec:
    """Log the failure and return the toast that shows the service's message to the user."""
    log_rejection(event, exc, **ids)
    return rx.toast.error(exc.detail, id="action-error")
