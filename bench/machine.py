"""The machine and software a benchmark ran on, read from /proc and the installed packages."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

# Packages whose versions decide the figures: the web stack, the engine, the database and the SDK.
REPORTED_PACKAGES = (
    "reflex", "fastapi", "starlette", "uvicorn", "sqlmodel", "SQLAlchemy", "dbos", "fal-client", "httpx",
    "pydantic", "pillow", "playwright",
)


@dataclass(frozen=True)
class MachineInfo:
    cpu_model: str
    cores: int
    memory_gib: float
    kernel: str
    python: str
    packages: dict[str, str] = field(default_factory=dict)
    chromium: str | None = None
    date: str = ""


# Iterations of the speed gauge's loop: one timing took 50 to 76 ms on the 2-core benchmark machine.
SPEED_GAUGE_LOOPS = 1_000_000


def load_average() -> tuple[float, float, float]:
    """Return the 1, 5 and 15 minute load averages of this machine."""
    return os.getloadavg()


def speed_gauge_ms() -> float:
    """Time a fixed pure-Python loop, best of three, in milliseconds.

    A shared host can run the same code at different speeds an hour apart, which the load
    average of this machine does not show. A figure whose gauge rose was measured on a slower CPU.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for index in range(SPEED_GAUGE_LOOPS):
            total += index % 7
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1024 * 1024)
    except OSError:
        pass
    return 0.0


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe_machine(chromium_version: str | None = None) -> MachineInfo:
    return MachineInfo(
        cpu_model=_cpu_model(),
        cores=os.cpu_count() or 1,
        memory_gib=round(_memory_gib(), 1),
        kernel=platform.release(),
        python=platform.python_version(),
        packages=_package_versions(),
        chromium=chromium_version,
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
