"""The whole app (Reflex UI, API and run engine) in Reflex prod mode, served from a copy of the project.

The copy keeps the build of this benchmark apart from any other build in the repository. The
app is started in its own session (process group), so stopping that group also stops the
frontend tooling that Reflex spawns. The group is addressed by the PID of the process started here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from bench.processes import PROJECT_ROOT, free_port

COPIED = ["falflow", "assets", "alembic", "alembic.ini", "rxconfig.py", "reflex.lock", "pyproject.toml"]
# The first prod build installs the frontend packages and compiles every page.
START_TIMEOUT_SECONDS = 900.0


class ReflexApp:
    def __init__(self, workdir: Path, *, fal_url: str, poll_interval: float) -> None:
        self.root = workdir / "app"
        self.data_dir = self.root / "data"
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.log_path = workdir / "logs" / "reflex-app.log"
        self._fal_url = fal_url
        self._poll_interval = poll_interval
        self._process: subprocess.Popen[bytes] | None = None

    def _copy_project(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        for name in COPIED:
            source = PROJECT_ROOT / name
            if source.is_dir():
                shutil.copytree(source, self.root / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, self.root / name)

    def _environment(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        dropped = {"FAL_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
        env = {key: value for key, value in os.environ.items() if not key.startswith("FALFLOW_") and key not in dropped}
        env.update({
            "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
            "REFLEX_USE_NPM": "1",
            "REFLEX_TELEMETRY_ENABLED": "false",
            "PYTHONPATH": str(self.root),
            "FALFLOW_DATA_DIR": str(self.data_dir),
            "FALFLOW_PUBLIC_URL": self.url,
            "FALFLOW_JWT_SECRET": secrets.token_urlsafe(48),
            "FALFLOW_SANDBOX_FAL_URL": self._fal_url,
            "FALFLOW_FAL_POLL_INTERVAL_SECONDS": f"{self._poll_interval:g}",
            "FALFLOW_STARTER_GRANT_CREDITS": "10000000",
            "FALFLOW_LOG_JSON": "false",
        })
        return env

    def __enter__(self) -> ReflexApp:
        self._copy_project()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        reflex = str(Path(sys.executable).parent / "reflex")
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [reflex, "run", "--env", "prod", "--frontend-port", str(self.port), "--backend-port", str(self.port),
                 "--backend-host", "127.0.0.1"],
                cwd=self.root, env=self._environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            self._wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_until_serving(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the Reflex app exited with code {self._process.returncode} while starting; "
                    f"its log ends with:\n{self.log_path.read_text(errors='replace')[-3000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                api_ready = httpx.get(f"{self.url}/api/nodes", timeout=2).status_code == 200
                if api_ready and httpx.get(self.url, timeout=2).status_code == 200:
                    return
            time.sleep(1)
        raise RuntimeError(f"the Reflex app did not serve {self.url} within {START_TIMEOUT_SECONDS:g} s")

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
