"""The stand-in as its own process (``python -m falflow.sandbox.fal``), and state that outlives a client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import falflow

REPO_ROOT = Path(falflow.__file__).resolve().parent.parent


def python_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


@pytest.fixture
def standin_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "falflow.sandbox.fal", "--port", "0", "--queue-seconds", "0", "--run-seconds", "0.05"],
        cwd=REPO_ROOT,
        env=python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("fal stand-in listening on http://127.0.0.1:"), line
        yield process, line.strip().rsplit(" ", 1)[-1]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_process_serves_queue(standin_process: tuple[subprocess.Popen[str], str]) -> None:
    _, url = standin_process
    with httpx.Client(base_url=url, trust_env=False, timeout=10.0) as http:
        config = http.get("/_sandbox/config").json()
        submitted = http.post("/fal-ai/flux/schnell", json={"prompt": "a kite", "image_size": "square"}).json()
        for _ in range(300):
            if http.get(submitted["status_url"]).status_code == 200:
                break
            time.sleep(0.01)
        result = http.get(submitted["response_url"])

    assert config["timing"]["queue_seconds"] == 0
    assert config["timing"]["run_seconds"] == 0.05
    assert result.status_code == 200
    assert result.json()["images"][0]["url"].startswith(url)


def test_request_outlives_killed_client(standin_process: tuple[subprocess.Popen[str], str]) -> None:
    _, url = standin_process
    httpx.patch(f"{url}/_sandbox/config", json={"timing": {"run_seconds": 0.5}}, trust_env=False).raise_for_status()
    client_code = textwrap.dedent(
        f"""
        import asyncio, time
        from falflow.integrations.fal import FalGateway, FalGatewayConfig

        async def main():
            gateway = FalGateway(FalGatewayConfig(sandbox_url={url!r}))
            submitted = await gateway.submit("fal-ai/flux/schnell", {{"prompt": "orphan", "image_size": "square"}})
            print(submitted.request_id, flush=True)
            time.sleep(60)

        asyncio.run(main())
        """
    )
    client = subprocess.Popen(
        [sys.executable, "-c", client_code], cwd=REPO_ROOT, env=python_env(), stdout=subprocess.PIPE, text=True
    )
    assert client.stdout is not None
    request_id = client.stdout.readline().strip()
    client.send_signal(signal.SIGKILL)
    client.wait(timeout=10)

    with httpx.Client(base_url=url, trust_env=False, timeout=10.0) as http:
        for _ in range(300):
            status = http.get(f"/fal-ai/flux/requests/{request_id}/status")
            if status.status_code == 200:
                break
            time.sleep(0.01)
        listing = http.get("/_sandbox/requests").json()["requests"]

    assert client.returncode == -signal.SIGKILL
    assert status.json()["status"] == "COMPLETED"
    assert [item["request_id"] for item in listing] == [request_id]
    assert listing[0]["outcome"] == "ok"
