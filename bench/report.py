"""docs/benchmarks.md: a hand-written introduction, then the generated machine and figure sections.

Everything above `GENERATED_MARKER` is kept as it is. Each figure's section sits between its own
pair of markers, so a run of some figures (`--only`) replaces those sections and keeps the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from bench.machine import MachineInfo
from bench.results import FigureResult, FigureStatus, Verdict

GENERATED_MARKER = "<!-- Everything below is written by `python -m bench`; edit the text above this line only. -->"
DEFAULT_INTRO = "# Benchmarks\n\nMeasured by `python -m bench` (`make bench`).\n"
_SECTION = re.compile(r"<!-- figure:(?P<key>[\w-]+) -->\n.*?<!-- /figure:(?P=key) -->\n", re.DOTALL)


def _load(value: tuple[float, float, float] | None) -> str:
    return "unknown" if value is None else " / ".join(f"{part:.2f}" for part in value)


def _gauge(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f} ms"


def render_machine(machine: MachineInfo, *, profile: str, figures: Sequence[str]) -> str:
    packages = ", ".join(f"{name} {version}" for name, version in machine.packages.items())
    lines = [
        "## Machine of the latest run",
        "",
        f"- Date: {machine.date}; profile `{profile}`; figures measured in that run: {', '.join(figures)}.",
        f"- CPU: {machine.cpu_model}, {machine.cores} cores; RAM {machine.memory_gib:g} GiB; Linux {machine.kernel}.",
        f"- Python {machine.python}; {packages}.",
        f"- Browser: {machine.chromium or 'not recorded (the smoke profile does not use one)'}.",
        "",
        "Each figure below names its own date and the load average (1 / 5 / 15 min) before and after it, "
        "because other processes share this machine. It also gives a speed gauge before and after it: the best "
        "of three timings of a fixed Python loop (`bench.machine.speed_gauge_ms`). A shared host can run the same "
        "code at different speeds an hour apart, so compare figures only when their gauges agree.",
        "",
    ]
    return "\n".join(lines)


def _verdict_line(result: FigureResult) -> str:
    if result.status is not FigureStatus.MEASURED:
        return f"**{result.status.value}**"
    checked = [metric for metric in result.metrics if metric.verdict is not Verdict.INFO]
    if not checked:
        return "**measured** (no target)"
    missed = result.missed
    if not missed:
        return f"**target met** ({len(checked)} of {len(checked)} checks)"
    return f"**target missed** ({len(missed)} of {len(checked)} checks: {', '.join(metric.name for metric in missed)})"


def render_figure(result: FigureResult, machine: MachineInfo) -> str:
    lines = [
        f"<!-- figure:{result.key} -->",
        f"### {result.title}",
        "",
        f"{_verdict_line(result)}. Target: {result.target}. Baseline: {result.baseline}.",
        "",
        f"Run {machine.date} on {machine.cpu_model} ({machine.cores} cores) in {result.seconds:.0f} s; "
        f"load average before {_load(result.load_before)}, after {_load(result.load_after)}; "
        f"speed gauge before {_gauge(result.speed_before_ms)}, after {_gauge(result.speed_after_ms)}.",
        "",
    ]
    if result.metrics:
        lines += ["| Metric | Value | Target | Verdict |", "|---|---|---|---|"]
        for metric in result.metrics:
            value = metric.value.replace("|", "\\|")
            lines.append(f"| {metric.name} | {value} | {metric.target or '—'} | {metric.verdict.value} |")
        lines.append("")
    if result.method:
        lines += ["How it is measured:", ""] + [f"- {item}" for item in result.method] + [""]
    if result.notes:
        lines += ["Notes:", ""] + [f"- {item}" for item in result.notes] + [""]
    lines.append(f"<!-- /figure:{result.key} -->")
    return "\n".join(lines) + "\n"


def existing_sections(text: str) -> dict[str, str]:
    return {match.group("key"): match.group(0) for match in _SECTION.finditer(text)}


def write_report(
    path: Path, results: Sequence[FigureResult], machine: MachineInfo, *, profile: str, order: Sequence[str]
) -> None:
    """Rewrite the generated part of `path`, keeping its introduction and any figure not in `results`."""
    old = path.read_text() if path.exists() else ""
    intro, marker, _ = old.partition(GENERATED_MARKER)
    if not marker:
        intro = old or DEFAULT_INTRO
    sections = existing_sections(old)
    for result in results:
        sections[result.key] = render_figure(result, machine)
    ordered = [sections[key] for key in order if key in sections]
    ordered += [section for key, section in sections.items() if key not in order]
    body = [intro.rstrip("\n") + "\n", GENERATED_MARKER, "",
            render_machine(machine, profile=profile, figures=[result.key for result in results]),
            "## Figures", "", "\n".join(ordered)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(body))
