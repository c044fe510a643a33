"""Results of one figure: its metrics against their targets, notes, and the machine load around it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Verdict(enum.StrEnum):
    MET = "met"
    MISSED = "missed"
    # A metric reported for context that has no target of its own.
    INFO = "—"


class FigureStatus(enum.StrEnum):
    MEASURED = "measured"
    NOT_MEASURED = "not measured yet"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Metric:
    """One row of a figure's table: the measured value, the target it is held to and the verdict."""

    name: str
    value: str
    target: str = ""
    verdict: Verdict = Verdict.INFO

    @classmethod
    def checked(cls, name: str, value: str, target: str, met: bool) -> Metric:
        return cls(name=name, value=value, target=target, verdict=Verdict.MET if met else Verdict.MISSED)


@dataclass
class FigureResult:
    """The outcome of one benchmark figure, rendered as one section of docs/benchmarks.md."""

    key: str
    title: str
    baseline: str
    target: str
    status: FigureStatus = FigureStatus.MEASURED
    metrics: list[Metric] = field(default_factory=list)
    method: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] | None = None
    load_after: tuple[float, float, float] | None = None
    # bench.machine.speed_gauge_ms before and after the figure.
    speed_before_ms: float | None = None
    speed_after_ms: float | None = None
    seconds: float = 0.0

    @property
    def missed(self) -> list[Metric]:
        return [metric for metric in self.metrics if metric.verdict is Verdict.MISSED]
