"""Optional CPU profiles of the servers a figure measures, taken with py-spy (`python -m bench --profile`).

py-spy attaches to a running process from outside, so the measured server runs unchanged apart
from the sampling cost. The raw output (one folded stack and its sample count per line) is kept
in the work folder, and the figure's notes get the falflow frames with the largest shares.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

logger = logging.getLogger("bench.profiling")

SAMPLES_PER_SECOND = 100
PROJECT_FRAME_MARK = "falflow/"
# The server's entry point is on every main-thread stack, so it shows nothing about where time goes.
ENTRY_FRAME_MARK = "falflow/serve_api.py"
# Leaf frames of threads that wait for work; py-spy still samples some of them.
IDLE_LEAVES = ("Condition.wait ", "EpollSelector.select ", "_worker (concurrent/futures/thread.py:81)", "Event.wait ")


def py_spy_path() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


class PySpyRecorder:
    """Sample process `pid` into `output` (py-spy's raw folded format) until the block ends."""

    def __init__(self, pid: int, output: Path) -> None:
        self.output = output
        self._pid = pid
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PySpyRecorder:
        executable = py_spy_path()
        if executable is None:
            raise RuntimeError("--profile needs py-spy; install it with `pip install py-spy` into the venv")
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [executable, "record", "--pid", str(self._pid), "--rate", str(SAMPLES_PER_SECOND), "--format", "raw",
             "--output", str(self.output), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        # SIGINT makes py-spy stop sampling and write its output file.
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._process.pid, signal.SIGINT)
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            logger.warning("bench.profile.kill", extra={"pid": self._process.pid})
            self._process.kill()
            self._process.wait(10)


def top_project_frames(raw_profile: Path, limit: int = 10) -> list[tuple[float, str]]:
    """Return the falflow frames that most busy samples end in, as (share 0..1, frame).

    Each sample is charged to its deepest falflow frame, so a frame's share includes the library
    code it calls (SQLAlchemy, httpx, Pillow) but not the falflow functions it calls. Samples of
    threads waiting for work are left out.
    """
    charged: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw_profile.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        if stack.rpartition(";")[2].startswith(IDLE_LEAVES):
            continue
        total += count
        project_frames = [
            frame for frame in stack.split(";") if PROJECT_FRAME_MARK in frame and ENTRY_FRAME_MARK not in frame
        ]
        charged[project_frames[-1] if project_frames else _outside_project(stack)] += count
    if total == 0:
        return []
    return [(count / total, frame) for frame, count in charged.most_common(limit)]


def _outside_project(stack: str) -> str:
    """Name the library that a sample without a falflow frame was in (its deepest frame's package)."""
    frames = stack.split(";")
    location = frames[-1].rpartition("(")[2].rstrip(")") if frames else ""
    path = location.rpartition(":")[0]
    if "site-packages/" in path:
        package = path.split("site-packages/", 1)[1].split("/", 1)[0]
    else:
        package = path.split("/", 1)[0].removesuffix(".py") or "unknown"
    return f"(outside falflow code, in {package})"


def describe_profile(raw_profile: Path, label: str) -> str:
    """Format the top falflow frames of a profile as one sentence for a figure's notes."""
    if not raw_profile.exists():
        return f"py-spy wrote no profile for {label}."
    frames = top_project_frames(raw_profile)
    listed = "; ".join(f"{share * 100:.1f} % {frame}" for share, frame in frames) or "no falflow frame sampled"
    return (f"py-spy CPU profile of {label} ({SAMPLES_PER_SECOND} samples/s over all threads; each busy sample "
            f"charged to its deepest falflow frame): {listed}. Raw profile: {raw_profile}.")


def profile_server(enabled: bool, pid: int, output: Path) -> contextlib.AbstractContextManager[object]:
    """Return a py-spy recorder for `pid` when `enabled`, else a block that does nothing."""
    return PySpyRecorder(pid, output) if enabled else contextlib.nullcontext()
