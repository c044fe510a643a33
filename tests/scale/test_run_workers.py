"""N web processes and M run workers on PostgreSQL with Redis: the embedded guarantees still hold."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.processes import ManagedProcess, StandinProcess, clean_env, free_port
from tests.scale.conftest import REDIS_URL

pytestmark = pytest.mark.scale

RUNS = 50
JWT_SECRET = "scale-test-secret-" + "z" * 40


def _document(seed: int) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "prompt", "type": "util/text", "params": {"text": f"scene {seed}"}},
            {"id": "flux", "type": "fal-ai/flux/schnell", "params": {"image_size": "square", "seed": seed}},
            {"id": "upscale", "type": "fal-ai/clarity-upscaler", "params": {"upscale_factor": 2, "seed": seed}},
        ],
        "edges": [
            {"source": "prompt", "source_port": "text", "target": "flux", "target_port": "prompt"},
            {"source": "flux", "source_port": "images", "target": "upscale", "target_port": "image_url"},
        ],
    }


class Cluster:
    def __init__(self, database_url: str, tmp_path: Path, standin: StandinProcess) -> None:
        self.database_url = database_url
        self.standin = standin
        base = {
            "FALFLOW_DATABASE_URL": database_url,
            "FALFLOW_DATA_DIR": str(tmp_path / "data"),
            "FALFLOW_JWT_SECRET": JWT_SECRET,
            "FALFLOW_SANDBOX_FAL_URL": standin.url,
            "FALFLOW_FAL_POLL_INTERVAL_SECONDS": "0.05",
            "FALFLOW_REDIS_URL": REDIS_URL,
            "FALFLOW_LOG_JSON": "false",
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web = ManagedProcess(
            "falflow.serve_api", ["--port", str(self.port)],
            clean_env(**base, FALFLOW_RUN_WORKERS_EXTERNAL="true"), tmp_path / "web.log", ready_url=f"{self.url}/api/nodes",
        )
        self.workers = [
            ManagedProcess("falflow.worker", ["--executor-id", f"worker-{index}"], clean_env(**base), tmp_path / f"worker-{index}.log")
            for index in range(2)
        ]

    def start(self) -> None:
        for worker in self.workers:
            worker.start()
        time.sleep(3)  # the first worker creates the engine's schema
        self.web.start()

    def stop(self) -> None:
        self.web.stop()
        for worker in self.workers:
            worker.stop()

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30)
        email = f"scale-{uuid.uuid4().hex[:8]}@example.com"
        token = client.post("/api/auth/signup", json={"email": email, "password": "correct horse battery"}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        return client

    def executor_counts(self, status: str | None = None) -> dict[str, int]:
        """Item workflows per worker, optionally only those in one DBOS status (e.g. PENDING)."""
        engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT executor_id, count(*) FROM dbos.workflow_status WHERE name = 'falflow.run.item'"
                " AND (CAST(:status AS text) IS NULL OR status = :status) GROUP BY executor_id"
            ), {"status": status}).all()
        engine.dispose()
        return {executor: count for executor, count in rows}

    def ledger_violations(self) -> list[str]:
        from falflow.billing.ledger import find_ledger_violations
        from falflow.kit.db import Database

        database = Database(self.database_url)
        try:
            with database.read_session() as session:
                return find_ledger_violations(session)
        finally:
            database.dispose()


@pytest.fixture
def cluster(scale_database: str, tmp_path: Path) -> Iterator[Cluster]:
    standin = StandinProcess("--queue-seconds", "0", "--run-seconds", "0.4", "--log-count", "2", "--max-concurrency", "64")
    cluster = Cluster(scale_database, tmp_path, standin)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        standin.stop()


def _wait_all(client: httpx.Client, run_ids: list[str], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [client.get(f"/api/runs/{run_id}").json() for run_id in run_ids]
        if all(run["status"] in ("succeeded", "failed", "cancelled") for run in runs):
            return runs
        time.sleep(0.5)
    raise AssertionError("the runs did not finish in time")


def _start_runs(client: httpx.Client, count: int) -> list[str]:
    run_ids = []
    for seed in range(count):
        workflow = client.post("/api/workflows", json={"name": f"scale {seed}", "document": _document(seed)}).json()
        response = client.post(f"/api/workflows/{workflow['id']}/run")
        assert response.status_code == 202, response.text
        run_ids.append(response.json()["run_id"])
    return run_ids


def test_two_workers_run_fifty_runs_exactly_once(cluster: Cluster) -> None:
    client = cluster.client()
    run_ids = _start_runs(client, RUNS)
    runs = _wait_all(client, run_ids, timeout=240)

    assert [run["status"] for run in runs] == ["succeeded"] * RUNS
    requests = cluster.standin.requests()
    assert len(requests) == 2 * RUNS
    assert all(request["submit_count"] == 1 for request in requests)
    executors = cluster.executor_counts()
    assert set(executors) == {"worker-0", "worker-1"}, executors  # both workers took nodes
    charged = sum(run["charged_credits"] for run in runs)
    me = client.get("/api/me").json()
    assert me["credits"]["balance"] == 2000 - charged
    assert me["credits"]["reserved"] == 0
    assert cluster.ledger_violations() == []


def test_killed_worker_is_recovered_by_its_peer(cluster: Cluster) -> None:
    httpx.put(f"{cluster.standin.url}/_sandbox/config", json={"timing": {"queue_seconds": 0, "run_seconds": 3, "log_count": 2},
                                                             "max_concurrency": 64}, timeout=10).raise_for_status()
    client = cluster.client()
    run_ids = _start_runs(client, 8)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not cluster.executor_counts("PENDING"):
        time.sleep(0.2)
    busy = cluster.executor_counts("PENDING")
    assert busy, "no worker took a node"
    time.sleep(0.5)
    victim = max(busy, key=busy.__getitem__)
    cluster.workers[int(victim.rsplit("-", 1)[1])].kill()

    runs = _wait_all(client, run_ids, timeout=180)
    assert [run["status"] for run in runs] == ["succeeded"] * 8
    requests = cluster.standin.requests()
    assert len(requests) == 2 * 8
    assert all(request["submit_count"] == 1 for request in requests)
    charged = sum(run["charged_credits"] for run in runs)
    assert client.get("/api/me").json()["credits"] == {"balance": 2000 - charged, "reserved": 0, "available": 2000 - charged}
    assert cluster.ledger_violations() == []


def test_restarted_web_process_streams_the_rest_of_the_run(cluster: Cluster) -> None:
    httpx.put(f"{cluster.standin.url}/_sandbox/config", json={"timing": {"queue_seconds": 0, "run_seconds": 1.5, "log_count": 3},
                                                             "max_concurrency": 64}, timeout=10).raise_for_status()
    client = cluster.client()
    run_id = _start_runs(client, 1)[0]
    time.sleep(1.0)
    seen = client.get(f"/api/runs/{run_id}/events").json()["events"]
    last_seq = seen[-1]["seq"]
    cluster.web.stop()
    cluster.web.start()
    with client.stream("GET", f"/api/runs/{run_id}/events/stream", headers={"Last-Event-ID": str(last_seq)}) as stream:
        body = "".join(stream.iter_text())
    ids = [int(line[4:]) for line in body.splitlines() if line.startswith("id: ")]
    assert ids == list(range(last_seq + 1, ids[-1] + 1))
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "succeeded"
    all_events = client.get(f"/api/runs/{run_id}/events").json()["events"]
    assert all_events[-1]["seq"] == ids[-1]
