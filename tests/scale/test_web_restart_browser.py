"""A web process restarted mid-run: the browser page reconnects, catches up and shows the finished run.

The scaled set-up runs for real: a run worker, the Reflex app in prod mode with several web
workers on Redis, PostgreSQL, and a fal stand-in, all as subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.processes import ManagedProcess, StandinProcess, clean_env, free_port
from tests.scale.conftest import REDIS_URL
from tests.ui.conftest import _copy_project, _stop, _wait_until_serving, sign_up_in_browser

pytestmark = pytest.mark.scale

ITEMS = 12
RUN_TIMEOUT_MS = 120_000


class ReflexApp:
    def __init__(self, workdir: Path, env: dict[str, str], port: int) -> None:
        self.workdir, self.env, self.port = workdir, env, port
        self.url = f"http://localhost:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        bin_dir = Path(sys.executable).parent
        log_path = self.workdir / "server.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(bin_dir / "reflex"), "run", "--env", "prod", "--frontend-port", str(self.port),
                 "--backend-port", str(self.port), "--backend-host", "127.0.0.1"],
                cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        _wait_until_serving(self.url, self.process, log_path)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


@pytest.fixture
def scaled_app(scale_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReflexApp]:
    workdir = tmp_path_factory.mktemp("scaled-app")
    _copy_project(workdir)
    standin = StandinProcess("--queue-seconds", "0", "--run-seconds", "1.0", "--log-count", "2", "--max-concurrency", "4")
    port = free_port()
    env = clean_env(
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        REFLEX_USE_NPM="1",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_REDIS_URL=REDIS_URL,
        GRANIAN_WORKERS="2",
        PYTHONPATH=str(workdir),
        FALFLOW_DATABASE_URL=scale_database,
        FALFLOW_REDIS_URL=REDIS_URL,
        FALFLOW_RUN_WORKERS_EXTERNAL="true",
        FALFLOW_DATA_DIR=str(workdir / "data"),
        FALFLOW_PUBLIC_URL=f"http://localhost:{port}",
        FALFLOW_SANDBOX_FAL_URL=standin.url,
        FALFLOW_JWT_SECRET="scaled-browser-secret-" + "q" * 40,
        FALFLOW_LOG_JSON="false",
    )
    worker_env = {k: v for k, v in env.items() if k != "FALFLOW_RUN_WORKERS_EXTERNAL"}
    worker = ManagedProcess("falflow.worker", ["--executor-id", "browser-worker"], worker_env, workdir / "worker.log")
    worker.start()
    app = ReflexApp(workdir, env, port)
    try:
        app.start()
        yield app
    finally:
        app.stop()
        worker.stop()
        standin.stop()


def _batch_document(count: int) -> dict[str, object]:
    items = [f"A lantern number {index}" for index in range(count)]
    return {"nodes": [
        {"id": "prompts", "type": "util/text-list", "params": {"items": items}, "position": {"x": 0, "y": 0}},
        {"id": "images", "type": "fal-ai/flux/schnell", "params": {"image_size": "square"}, "position": {"x": 360, "y": 0}},
    ], "edges": [{"source": "prompts", "source_port": "items", "target": "images", "target_port": "prompt"}]}


def test_page_catches_up_after_web_restart(scaled_app: ReflexApp, page: Page) -> None:
    sign_up_in_browser(page, scaled_app.url)
    created = page.request.post(f"{scaled_app.url}/api/workflows", data={"name": "Lanterns", "document": _batch_document(ITEMS)},
                                   headers={"Origin": scaled_app.url})
    assert created.status == 201, created.text()
    workflow_id = created.json()["id"]
    page.goto(f"{scaled_app.url}/workflows/{workflow_id}")
    expect(page.locator("#run-button")).to_be_enabled(timeout=60_000)

    page.click("#run-button")
    batch = page.locator(".react-flow__node[data-id='images'] .ff-batch")
    expect(batch).to_contain_text(f"/{ITEMS} items", timeout=RUN_TIMEOUT_MS)

    scaled_app.stop()
    scaled_app.start()

    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    expect(batch).to_have_text(f"{ITEMS}/{ITEMS} items")
    page.screenshot(path=str(Path("test-results/screenshots") / "test_page_catches_up_after_web_restart.png"))
