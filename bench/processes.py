"""Subprocesses the benchmarks measure: the fal stand-in and the API server, each on a loopback port.

Each is started with its own PID and stopped by that PID only. Resident memory is read from
/proc/<pid>/status (`VmRSS` now, `VmHWM` the peak since the process started), in bytes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

logger = logging.getLogger("bench.processes")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_SECONDS = 90.0
# Requests the stand-in runs at once; its configuration accepts at most 1,000.
STANDIN_MAX_CONCURRENCY = 1000
_STANDIN_URL = re.compile(r"http://127\.0\.0\.1:\d+")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_memory_bytes(pid: int) -> tuple[int, int]:
    """Return (current RSS, peak RSS) of process `pid` in bytes."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024  # /proc reports kB
    return values["VmRSS"], values["VmHWM"]


def read_cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time process `pid` has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, so utime and stime (fields 14 and 15) sit at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _clean_environment() -> dict[str, str]:
    """Copy this process's environment without any falflow or provider setting that could leak in."""
    dropped = {"FAL_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
    env = {key: value for key, value in os.environ.items() if not key.startswith("FALFLOW_") and key not in dropped}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


def _stop(process: subprocess.Popen[Any], name: str) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        logger.warning("bench.process.kill", extra={"process": name, "pid": process.pid})
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(10)


class StandinProcess:
    """The fal stand-in as its own process, so its CPU and memory are not counted against the app.

    One stand-in serves every figure; each figure sets its simulated timing with `use_timing`.
    """

    def __init__(self, *, run_seconds: float, log_count: int, max_concurrency: int = STANDIN_MAX_CONCURRENCY) -> None:
        self.url = ""
        self._timing = {"queue_seconds": 0.0, "run_seconds": run_seconds, "log_count": log_count}
        command = [
            sys.executable, "-m", "falflow.sandbox.fal", "--port", "0", "--queue-seconds", "0",
            "--run-seconds", str(run_seconds), "--log-count", str(log_count),
            "--max-concurrency", str(max_concurrency), "--log-level", "WARNING",
        ]
        self._process = subprocess.Popen(
            command, env=_clean_environment(), cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True,
        )

    def __enter__(self) -> StandinProcess:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        match = _STANDIN_URL.search(line)
        if match is None:
            self.stop()
            raise RuntimeError(f"the fal stand-in did not print its URL; its first output line was {line!r}")
        self.url = match.group(0)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        _stop(self._process, "fal-standin")

    def use_timing(self, *, run_seconds: float, log_count: int) -> None:
        """Set the simulated run time (seconds) and progress log lines of requests submitted from now on."""
        self._timing = {"queue_seconds": 0.0, "run_seconds": run_seconds, "log_count": log_count}
        self._apply_timing()

    def _apply_timing(self) -> None:
        response = httpx.patch(f"{self.url}/_sandbox/config", json={"timing": self._timing}, timeout=30)
        response.raise_for_status()

    def reset(self) -> None:
        """Forget every request and file, so one figure's records do not slow the next one down.

        The stand-in's reset also restores its start-up configuration, so the timing set with
        `use_timing` is applied again.
        """
        httpx.post(f"{self.url}/_sandbox/reset", timeout=60).raise_for_status()
        self._apply_timing()

    def cpu_seconds(self) -> float:
        return read_cpu_seconds(self._process.pid)

    def requests(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_sandbox/requests", timeout=120)
        response.raise_for_status()
        return list(response.json()["requests"])


def app_environment(data_dir: Path, *, fal_url: str, poll_interval: float, **settings: str) -> dict[str, str]:
    """Return the environment of an API server with its own SQLite database under `data_dir`.

    `settings` are more falflow settings by field name, e.g. `run_per_user_concurrency="1000"`.
    """
    env = _clean_environment()
    env.update({
        "FALFLOW_DATA_DIR": str(data_dir),
        "FALFLOW_DATABASE_URL": f"sqlite:///{(data_dir / 'falflow.sqlite').resolve()}",
        "FALFLOW_JWT_SECRET": secrets.token_urlsafe(48),
        "FALFLOW_SANDBOX_FAL_URL": fal_url,
        "FALFLOW_FAL_POLL_INTERVAL_SECONDS": f"{poll_interval:g}",
        "FALFLOW_LOG_JSON": "false",
    })
    for name, value in settings.items():
        env[f"FALFLOW_{name.upper()}"] = value
    return env


class ServerProcess:
    """An ASGI server started as `python -m <module> --port N`, ready once `ready_path` returns 200."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path, *, ready_path: str,
                 extra_args: list[str] | None = None) -> None:
        self.name = module
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._command = [sys.executable, "-m", module, "--port", str(self.port), *(extra_args or [])]
        self._env = env
        self._ready_path = ready_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        return self._started().pid

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError(f"{self.name} has not been started; use it as a context manager")
        return self._process

    def __enter__(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command, env=self._env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {self._process.returncode} while starting; "
                    f"its log ends with:\n{self.log_path.read_text()[-3000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}{self._ready_path}", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not respond on {self.url} within {STARTUP_TIMEOUT_SECONDS:g} s")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is not None:
            _stop(self._process, self.name)

    def memory_bytes(self) -> tuple[int, int]:
        """Return (current RSS, peak RSS) of the server process in bytes."""
        return read_memory_bytes(self.pid)

    def cpu_seconds(self) -> float:
        """Return the CPU time the server process has used so far (user plus system), in seconds."""
        return read_cpu_seconds(self.pid)


def api_server(env: dict[str, str], log_path: Path) -> ServerProcess:
    """Return the falflow API server with its run engine and no UI (`python -m falflow.serve_api`)."""
    return ServerProcess("falflow.serve_api", env, log_path, ready_path="/api/nodes")
