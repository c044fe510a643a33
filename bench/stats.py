"""Summaries of repeated measurements: median, spread and percentiles."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the `fraction` quantile (0..1) of `values` by linear interpolation between ranks."""
    if not values:
        raise ValueError("percentile of an empty sequence; measure at least one value first")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within 0..1, got {fraction!r}")
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """The median of repeated measurements with their min, max and interquartile range."""

    count: int
    median: float
    minimum: float
    maximum: float
    q1: float
    q3: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            raise ValueError("cannot summarise zero measurements; the figure produced no samples")
        return cls(
            count=len(values),
            median=statistics.median(values),
            minimum=min(values),
            maximum=max(values),
            q1=percentile(values, 0.25),
            q3=percentile(values, 0.75),
        )

    def describe(self, unit: str, *, scale: float = 1.0, digits: int = 1) -> str:
        """Format as `median unit (min–max, n=N)`, each value multiplied by `scale` first."""
        median = self.median * scale
        low = self.minimum * scale
        high = self.maximum * scale
        return f"{median:.{digits}f} {unit} (min–max {low:.{digits}f}–{high:.{digits}f}, n={self.count})"
