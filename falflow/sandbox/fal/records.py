"""One simulated fal request: its state, log lines, timestamps and final outcome."""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from falflow.sandbox.fal.config import Faults, Timing


class QueueState(enum.StrEnum):
    """fal's queue states. A failed or cancelled request also ends COMPLETED; its result carries the error."""

    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class OutcomeKind(enum.StrEnum):
    OK = "ok"
    VALIDATION_ERROR = "validation_error"
    SERVER_ERROR = "server_error"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Outcome:
    """The response that a result fetch returns, plus the optional error hints on the COMPLETED status."""

    kind: OutcomeKind
    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None


def ok_outcome(output: dict[str, Any]) -> Outcome:
    return Outcome(OutcomeKind.OK, 200, output)


def validation_outcome(detail: list[dict[str, Any]], status_code: int = 422) -> Outcome:
    first = detail[0] if detail else {"msg": "Invalid input", "type": "value_error"}
    return Outcome(
        OutcomeKind.VALIDATION_ERROR,
        status_code,
        {"detail": detail},
        headers={"x-fal-retryable": "false"},
        error=str(first.get("msg")),
        error_type=str(first.get("type")),
    )


def server_error_outcome(message: str) -> Outcome:
    detail = [{"loc": [], "msg": message, "type": "internal_server_error"}]
    return Outcome(
        OutcomeKind.SERVER_ERROR,
        500,
        {"detail": detail},
        headers={"x-fal-retryable": "true"},
        error=message,
        error_type="internal_server_error",
    )


def cancelled_outcome() -> Outcome:
    # NOTE: fal does not document the result body of a cancelled request; this shape is the sandbox's choice.
    return Outcome(
        OutcomeKind.CANCELLED,
        400,
        {"detail": "Request was cancelled before it completed.", "error_type": "request_cancelled"},
        error="Request was cancelled",
        error_type="request_cancelled",
    )


@dataclass
class RequestRecord:
    """A submitted request. ``created_at``, ``started_at`` and ``completed_at`` are Unix times in seconds.

    ``submit_index`` counts earlier submits with the same ``fingerprint`` (endpoint plus canonical
    arguments), starting at 1, so a duplicate submit shows up as 2 or more.
    """

    request_id: str
    endpoint_id: str
    app_path: str
    arguments: dict[str, Any]
    fingerprint: str
    submit_index: int
    sequence: int
    base_url: str
    timing: Timing
    faults: Faults
    time_scale: float
    validation_detail: list[dict[str, Any]]
    created_at: float = field(default_factory=time.time)
    state: QueueState = QueueState.IN_QUEUE
    started_at: float | None = None
    completed_at: float | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)
    outcome: Outcome | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    # How often the request's status was polled or streamed, so tests can tell the two apart.
    status_polls: int = 0
    status_streams: int = 0
    # One event per open status stream, set on every change of this request.
    watchers: set[asyncio.Event] = field(default_factory=set, repr=False)

    @property
    def request_url(self) -> str:
        return f"{self.base_url}/{self.app_path}/requests/{self.request_id}"

    @property
    def is_completed(self) -> bool:
        return self.state is QueueState.COMPLETED

    def mark_started(self) -> None:
        self.state = QueueState.IN_PROGRESS
        self.started_at = time.time()
        self.wake_watchers()

    def add_log(self, message: str, level: str = "INFO") -> None:
        self.logs.append(
            {
                "message": message,
                "level": level,
                "source": "USER",
                "timestamp": datetime.now(UTC).isoformat(),
                "labels": {},
            }
        )
        self.wake_watchers()

    def complete(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.state = QueueState.COMPLETED
        self.completed_at = time.time()
        self.wake_watchers()

    def wake_watchers(self) -> None:
        """Wake every open status stream of this request; each one then reads the current status."""
        for watcher in self.watchers:
            watcher.set()
