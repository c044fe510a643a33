"""Browser tests: the real app in Reflex prod mode, driven by Playwright in Debian's Chromium.

The app runs from a copy of the project in a temporary folder, so concurrent test sessions
never overwrite each other's frontend build; Reflex installs the frontend packages there from
the committed lock file (npm's cache makes later installs quick).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SCREENSHOT_DIR  # noqa: F401 - re-exported for the UI tests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 600
_COPIED = ["falflow", "assets", "alembic", "alembic.ini", "rxconfig.py", "reflex.lock", "pyproject.toml"]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _copy_project(target: Path) -> None:
    for name in _COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the app in prod mode on a free loopback port; yield its base URL."""
    if os.environ.get("FALFLOW_TEST_DATABASE_URL"):
        pytest.skip("browser tests run in the SQLite pass only")
    workdir = tmp_path_factory.mktemp("app")
    _copy_project(workdir)
    port = _free_port()
    base_url = f"http://localhost:{port}"
    bin_dir = str(Path(sys.executable).parent)
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith("FALFLOW_") and key not in {"FAL_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
    }
    env.update({
        "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "FALFLOW_DATA_DIR": str(workdir / "data"),
        "FALFLOW_PUBLIC_URL": base_url,
        "FALFLOW_SANDBOX_FAL_TIME_SCALE": "0.3",
        "FALFLOW_LOG_JSON": "false",
        "PYTHONPATH": str(workdir),
    })
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(bin_dir) / "reflex"), "run", "--env", "prod", "--frontend-port", str(port),
             "--backend-port", str(port), "--backend-host", "127.0.0.1"],
            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_until_serving(base_url, process, log_path)
        yield base_url
    finally:
        _stop(process)


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/api/nodes", timeout=2).status_code == 200 and httpx.get(base_url, timeout=2).status_code == 200:
                return
        time.sleep(1)
    raise RuntimeError(f"the app did not serve within {START_TIMEOUT_SECONDS} s:\n{log_path.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def sign_up_in_browser(page: object, app_url: str) -> str:
    """Create an account through the sign-up page; return its e-mail."""
    email = f"ui-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(f"{app_url}/signup")  # type: ignore[attr-defined]
    page.fill("#email", email)  # type: ignore[attr-defined]
    page.fill("#password", "correct horse battery")  # type: ignore[attr-defined]
    page.click("#auth-submit")  # type: ignore[attr-defined]
    page.wait_for_url(route_pattern(app_url, "/workflows"))  # type: ignore[attr-defined]
    return email


def route_pattern(app_url: str, path: str) -> re.Pattern[str]:
    """Match `path` with or without the trailing slash that prod mode redirects to."""
    return re.compile(re.escape(app_url + path.rstrip("/")) + r"/?(\?.*)?$")
