"""Helpers that run falflow's processes (API server, run worker, fal stand-in) as real subprocesses."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**values: str) -> dict[str, str]:
    """The test runner's environment without falflow settings, plus `values`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FALFLOW_")}
    for name in ("FAL_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        env.pop(name, None)
    env.update(values)
    return env


class StandinProcess:
    """`python -m falflow.sandbox.fal` on a free port."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "falflow.sandbox.fal", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if not match:
            self.stop()
            raise AssertionError(f"the stand-in did not report its URL: {line!r}")
        self.url = match.group(0)

    def requests(self) -> list[dict[str, object]]:
        return list(httpx.get(f"{self.url}/_sandbox/requests", timeout=10).json()["requests"])

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


class ManagedProcess:
    """A falflow process (`python -m <module> ...`) that can be started, SIGKILLed and restarted."""

    def __init__(self, module: str, args: list[str], env: dict[str, str], log: Path, ready_url: str | None = None) -> None:
        self.module, self.args, self.env, self.log, self.ready_url = module, args, env, log, ready_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        if self.ready_url is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.module} exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.ready_url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"{self.module} did not start:\n{self.log.read_text()[-3000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
