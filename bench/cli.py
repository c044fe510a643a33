"""`python -m bench [--smoke] [--only GROUP,…] [--output PATH]`: measure the figures and write the report."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import api_load, browser, chain, concurrency, gallery
from bench.machine import describe_machine, load_average, speed_gauge_ms
from bench.processes import PROJECT_ROOT, StandinProcess
from bench.profiles import FULL, SMOKE, Profile
from bench.report import write_report
from bench.results import FigureResult, FigureStatus
from falflow.kit.logging import PlainFormatter, configure_logging

logger = logging.getLogger("bench")

FULL_REPORT = PROJECT_ROOT / "docs" / "benchmarks.md"
SMOKE_REPORT = PROJECT_ROOT / "test-results" / "benchmarks-smoke.md"

Measure = Callable[[Profile, Path, StandinProcess], list[FigureResult]]


@dataclass(frozen=True)
class Group:
    """Figures measured together because they share set-up (the browser figures share one app build)."""

    name: str
    keys: tuple[str, ...]
    titles: tuple[str, ...]
    measure: Measure
    needs_browser: bool = False


def _single(measure: Callable[[Profile, Path, StandinProcess], FigureResult]) -> Measure:
    return lambda profile, workdir, standin: [measure(profile, workdir, standin)]


GROUPS = (
    Group("chain", (chain.KEY,), ("10-node chain",), _single(chain.measure)),
    Group("concurrency", (concurrency.KEY,), ("Concurrent runs and memory",), _single(concurrency.measure)),
    Group("api_load", (api_load.KEY,), ("API under load",), _single(api_load.measure)),
    Group("browser", (browser.DOM_KEY, browser.EDITOR_KEY),
          ("Stand-in status change → browser DOM", "Editor load"), browser.measure, needs_browser=True),
    Group("gallery", (gallery.KEY,), ("Gallery first page",), _single(gallery.measure)),
)
ORDER = [key for group in GROUPS for key in group.keys]


def _placeholders(group: Group, status: FigureStatus, note: str) -> list[FigureResult]:
    return [
        FigureResult(key=key, title=title, baseline="—", target="see the task", status=status, notes=[note])
        for key, title in zip(group.keys, group.titles, strict=True)
    ]


def _run_group(group: Group, profile: Profile, workdir: Path, standin: StandinProcess) -> list[FigureResult]:
    if group.needs_browser and not profile.browser:
        return _placeholders(group, FigureStatus.SKIPPED, f"The {profile.name} profile does not start Chromium.")
    logger.info("bench.group.started", extra={"group": group.name, "profile": profile.name})
    before = load_average()
    speed_before = speed_gauge_ms()
    started = time.perf_counter()
    try:
        results = group.measure(profile, workdir, standin)
    except Exception as exc:  # One broken figure must not cost the others their numbers.
        logger.exception("bench.group.failed", extra={"group": group.name})
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        note = (
            f"The benchmark failed with {type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno}). "
            f"Logs of the servers it started are under {workdir / 'logs'}."
        )
        results = _placeholders(group, FigureStatus.FAILED, note)
    after = load_average()
    speed_after = speed_gauge_ms()
    for result in results:
        result.load_before = result.load_before or before
        result.load_after = result.load_after or after
        result.speed_before_ms = result.speed_before_ms or speed_before
        result.speed_after_ms = result.speed_after_ms or speed_after
        result.seconds = result.seconds or time.perf_counter() - started
    logger.info("bench.group.finished", extra={"group": group.name, "seconds": round(time.perf_counter() - started, 1)})
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true",
        help="Run every server-side figure at a tiny scale, without Chromium (a CI check of under 2 minutes).",
    )
    parser.add_argument(
        "--only", default="", help=f"Comma-separated groups to run: {', '.join(g.name for g in GROUPS)}."
    )
    parser.add_argument(
        "--output", type=Path,
        help=f"Report to write (default {FULL_REPORT.relative_to(PROJECT_ROOT)}, "
             f"or {SMOKE_REPORT.relative_to(PROJECT_ROOT)} with --smoke).",
    )
    parser.add_argument(
        "--workdir", type=Path, help="Folder for databases and server logs (default: a new temporary folder)."
    )
    parser.add_argument("--keep-workdir", action="store_true", help="Keep the work folder after a successful run.")
    parser.add_argument(
        "--profile", action="store_true",
        help="Sample the measured API servers with py-spy and list their hottest falflow frames in the notes.",
    )
    return parser.parse_args(argv)


def _selected(only: str) -> list[Group]:
    if not only:
        return list(GROUPS)
    names = [name.strip() for name in only.split(",") if name.strip()]
    known = {group.name: group for group in GROUPS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"--only names unknown group(s) {', '.join(unknown)}; choose from {', '.join(known)}.")
    return [known[name] for name in names]


def _configure_logging() -> None:
    # The baseline's FalGateway logs every call at INFO; only the benchmark's progress and
    # falflow's warnings belong on the console.
    configure_logging("WARNING", json_lines=False)
    handler = logging.StreamHandler()
    handler.setFormatter(PlainFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _configure_logging()
    profile = SMOKE if args.smoke else FULL
    if args.profile:
        profile = dataclasses.replace(profile, profile_servers=True)
    output = args.output or (SMOKE_REPORT if args.smoke else FULL_REPORT)
    groups = _selected(args.only)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="falflow-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    # Recorded in every full run, because the browser figures' sections outlive the run that made them.
    chromium = browser.chromium_version() if profile.browser else None
    machine = describe_machine(chromium)
    results: list[FigureResult] = []
    # Every figure sets its own timing; these start values are placeholders.
    with StandinProcess(run_seconds=0.1, log_count=0) as standin:
        for group in groups:
            results += _run_group(group, profile, workdir, standin)
            # Written after every group, so an interrupted run keeps the figures it finished.
            write_report(output, results, machine, profile=profile.name, order=ORDER)
    failed = [result.key for result in results if result.status is FigureStatus.FAILED]
    logger.info("bench.report.written", extra={"path": str(output), "failed": ",".join(failed) or "none"})
    if failed:
        logger.error("bench.failed", extra={"figures": ",".join(failed), "workdir": str(workdir)})
        return 1
    if args.workdir is None and not args.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
