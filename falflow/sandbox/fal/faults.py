"""Bookkeeping for injected faults: how many were injected so far, and seeded failure draws."""

from __future__ import annotations

import enum
import logging
import random
from collections import Counter

from falflow.sandbox.fal.config import Faults

logger = logging.getLogger(__name__)


class FaultKind(enum.StrEnum):
    SUBMIT_RATE_LIMIT = "submit_rate_limit"
    STATUS_RATE_LIMIT = "status_rate_limit"
    RESULT_SERVER_ERROR = "result_server_error"


class FaultCounters:
    """Counts injected faults per kind and endpoint, so 'the first N calls' faults stop after N."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[FaultKind, str]] = Counter()

    def take(self, kind: FaultKind, endpoint_id: str, limit: int) -> bool:
        """Count and return True while fewer than ``limit`` faults of ``kind`` hit ``endpoint_id``."""
        key = (kind, endpoint_id)
        if self._counts[key] >= limit:
            return False
        self._counts[key] += 1
        logger.info(
            "fal_standin.fault.injected",
            extra={"fault": kind.value, "endpoint_id": endpoint_id, "count": self._counts[key], "limit": limit},
        )
        return True

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Return the counts as {kind: {endpoint_id: count}}."""
        result: dict[str, dict[str, int]] = {}
        for (kind, endpoint_id), count in sorted(self._counts.items()):
            result.setdefault(kind.value, {})[endpoint_id] = count
        return result

    def reset(self) -> None:
        self._counts.clear()


def draws_failure(faults: Faults, fault_seed: int, fingerprint: str, submit_index: int) -> bool:
    """Return True if this submit fails under ``failure_rate``; the same seed and inputs draw the same."""
    if faults.failure_rate <= 0:
        return False
    return random.Random(f"{fault_seed}:{fingerprint}:{submit_index}").random() < faults.failure_rate
