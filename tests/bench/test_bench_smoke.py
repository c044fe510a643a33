"""`python -m bench --smoke` still measures every server-side figure and writes its report.

The smoke run starts real servers on loopback (the API, the bare baseline app and the fal
stand-in) at a tiny scale. These tests check that the harness completes and what the report
contains, never how fast anything was.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bench.machine import describe_machine
from bench.report import GENERATED_MARKER, write_report
from bench.results import FigureResult, Metric
from bench.stats import Summary, percentile

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER_FIGURES = ("chain", "concurrency", "api_load", "gallery")
BROWSER_FIGURES = ("dom_latency", "editor_load")
SMOKE_TIMEOUT_SECONDS = 170


def _section(report: str, key: str) -> str:
    start = report.index(f"<!-- figure:{key} -->")
    end = report.index(f"<!-- /figure:{key} -->")
    return report[start:end]


def test_smoke_run_writes_report(tmp_path: Path) -> None:
    report_path = tmp_path / "benchmarks.md"
    env = {key: value for key, value in os.environ.items() if not key.startswith("FALFLOW_")}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(report_path), "--workdir", str(tmp_path / "work")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=SMOKE_TIMEOUT_SECONDS,
    )

    assert completed.returncode == 0, completed.stderr[-4000:]
    report = report_path.read_text()
    assert GENERATED_MARKER in report
    assert "## Machine of the latest run" in report
    for key in SERVER_FIGURES:
        section = _section(report, key)
        assert "| Metric | Value | Target | Verdict |" in section, f"{key} has no metrics table"
        assert "**failed**" not in section, f"{key} failed: {section}"
        assert re.search(r"speed gauge before \d+ ms, after \d+ ms", section), f"{key} has no speed gauge"
    for key in BROWSER_FIGURES:
        assert "**skipped**" in _section(report, key)


def test_report_keeps_intro_and_other_figures(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text(f"# Benchmarks\n\nHand-written introduction.\n\n{GENERATED_MARKER}\nold generated text\n")
    machine = describe_machine()
    first = FigureResult(key="chain", title="Chain", baseline="b", target="t", metrics=[Metric("wall", "1 s")])
    write_report(path, [first], machine, profile="smoke", order=["chain", "gallery"])
    second = FigureResult(key="gallery", title="Gallery", baseline="b", target="t",
                          metrics=[Metric.checked("page", "5 ms", "≤ 300 ms", True)])

    write_report(path, [second], machine, profile="smoke", order=["chain", "gallery"])

    report = path.read_text()
    assert report.startswith("# Benchmarks\n\nHand-written introduction.\n")
    assert "old generated text" not in report
    assert "<!-- figure:chain -->" in report
    assert "<!-- figure:gallery -->" in report
    assert report.index("<!-- figure:chain -->") < report.index("<!-- figure:gallery -->")
    assert "**target met** (1 of 1 checks)" in report


def test_summary_and_percentiles() -> None:
    summary = Summary.of([4.0, 1.0, 3.0, 2.0])

    assert summary.median == 2.5
    assert (summary.minimum, summary.maximum) == (1.0, 4.0)
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.5) == 30.0
    assert percentile([10.0, 20.0], 0.99) == 19.9
