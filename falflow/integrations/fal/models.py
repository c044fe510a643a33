"""Typed values that ``FalGateway`` returns: submitted requests, statuses, log lines, cancel outcomes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class FalRequestState(enum.StrEnum):
    """fal's queue states. There is no failed state: failures end ``COMPLETED`` with the error on the result."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class CancelOutcome(enum.StrEnum):
    """Result of a cancel call."""

    REQUESTED = "requested"
    ALREADY_COMPLETED = "already_completed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class SubmittedRequest:
    """A request that fal accepted into its queue; store ``request_id`` before waiting on it."""

    request_id: str
    endpoint_id: str
    status_url: str
    response_url: str
    cancel_url: str


@dataclass(frozen=True)
class FalLog:
    """One log line of a running request; ``timestamp`` is None when fal sent none or an unparsable one."""

    message: str
    level: str
    timestamp: datetime | None


@dataclass(frozen=True)
class FalStatus:
    """One observation of a request's state.

    ``queue_position`` is set only while queued (0 means next). ``logs`` contains every line so far from
    ``FalGateway.status`` but only the new lines from ``FalGateway.watch``; ``logs_seen`` counts all lines
    observed so far in both cases. ``metrics`` carries fal's numbers, e.g. ``inference_time`` in seconds.
    ``error`` and ``error_type`` are fal's optional hints on a completed request whose result is an error.
    """

    endpoint_id: str
    request_id: str
    state: FalRequestState
    queue_position: int | None = None
    logs: list[FalLog] = field(default_factory=list)
    logs_seen: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None

    @property
    def is_completed(self) -> bool:
        return self.state is FalRequestState.COMPLETED
