"""Figure: `GET /api/workflows` and `POST /api/workflows/{id}/run` under open-loop load from loopback.

The API server and the bare baseline app (`bench.bare_app`) run as separate uvicorn processes on
the same SQLite file. Each target gets the same schedule, one target after the other, in every
repetition. The run requests start a workflow of one utility node, so each run finishes in
the engine's first step without a fal request. That engine work still runs in the API process.
Each target's closed-loop capacity is measured too, because a schedule above capacity shows only
queueing, and capacity shows how far the server is from the target rate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.api_client import create_workflow, sign_up
from bench.documents import fal_chain, utility_only
from bench.loadgen import LoadResult, closed_loop_capacity, open_loop
from bench.processes import ServerProcess, StandinProcess, api_server, app_environment
from bench.profiles import Profile
from bench.profiling import describe_profile, profile_server
from bench.results import FigureResult, Metric
from bench.run_store import RunStore
from bench.stats import Summary

KEY = "api_load"
MAX_P99_MS = 25.0
MAX_BARE_RATIO = 1.5
MAX_CONNECTIONS = 100
RUN_TIMEOUT_SECONDS = 600.0
CAPACITY_WORKERS = 8

Sender = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def _errors(results: list[LoadResult]) -> int:
    return sum(sum(result.errors.values()) for result in results)


def _describe(results: list[LoadResult]) -> str:
    p50 = Summary.of([r.latency_ms(0.50) for r in results])
    p95 = Summary.of([r.latency_ms(0.95) for r in results])
    p99 = Summary.of([r.latency_ms(0.99) for r in results])
    rate = Summary.of([r.achieved_rate for r in results])
    errors = _errors(results)
    sent = sum(sum(r.statuses.values()) + sum(r.errors.values()) for r in results)
    lag = max(max(r.send_lags) for r in results) * 1000
    return (
        f"p50 {p50.median:.1f} / p95 {p95.median:.1f} / p99 {p99.median:.1f} ms "
        f"(p99 min–max {p99.minimum:.1f}–{p99.maximum:.1f}); achieved {rate.median:.0f} req/s; "
        f"errors {errors} of {sent}; max client send lag {lag:.1f} ms"
    )


def _p99(results: list[LoadResult]) -> float:
    return Summary.of([r.latency_ms(0.99) for r in results]).median


@dataclass(frozen=True)
class Target:
    """One endpoint under load: the client that reaches its server, the request, the status it must return."""

    name: str
    client: httpx.AsyncClient
    send: Sender
    expected_status: int
    seconds: float


@dataclass(frozen=True)
class Seeded:
    headers: dict[str, str]
    owner_id: str
    run_workflow_id: str


async def _seed(api: httpx.AsyncClient, workflows: int) -> Seeded:
    """Create the account, the workflows `GET /api/workflows` lists and the workflow the load runs."""
    headers = await sign_up(api)
    for index in range(workflows):
        await create_workflow(api, headers, f"bench workflow {index}", fal_chain(5, seed=index))
    run_workflow_id = await create_workflow(api, headers, "bench utility run", utility_only("load"))
    owner_id = str((await api.get("/api/me", headers=headers)).json()["id"])
    return Seeded(headers=headers, owner_id=owner_id, run_workflow_id=run_workflow_id)


def _targets(api: httpx.AsyncClient, bare: httpx.AsyncClient, seeded: Seeded, profile: Profile) -> list[Target]:
    headers, owner = seeded.headers, {"owner_id": seeded.owner_id}
    run_path = f"/workflows/{seeded.run_workflow_id}/run"
    reads, runs = profile.load_seconds, profile.load_run_seconds
    return [
        Target("GET /api/workflows", api, lambda c: c.get("/api/workflows", headers=headers), 200, reads),
        Target("bare GET", bare, lambda c: c.get("/bare/workflows", params=owner), 200, reads),
        Target("POST /api/workflows/{id}/run", api, lambda c: c.post(f"/api{run_path}", headers=headers), 202, runs),
        Target("bare POST", bare, lambda c: c.post(f"/bare{run_path}", params=owner), 202, runs),
        Target("bare POST + DBOS workflow start", bare,
               lambda c: c.post(f"/bare{run_path.removesuffix('/run')}/durable-run", params=owner), 202, runs),
    ]


async def _capacities(targets: list[Target], store: RunStore, seconds: float) -> dict[str, float]:
    capacities = {}
    for target in targets:
        capacities[target.name] = await closed_loop_capacity(
            target.send, target.client, workers=CAPACITY_WORKERS, seconds=seconds,
            expected_status=target.expected_status,
        )
        await store.wait_until_idle(timeout=RUN_TIMEOUT_SECONDS)
    return capacities


async def _apply_load(targets: list[Target], profile: Profile, store: RunStore) -> dict[str, list[LoadResult]]:
    outcomes: dict[str, list[LoadResult]] = {target.name: [] for target in targets}
    for _ in range(profile.load_repetitions):
        for target in targets:
            outcomes[target.name].append(await open_loop(
                target.send, target.client, rate_per_second=profile.load_rate_per_second,
                seconds=target.seconds, expected_status=target.expected_status,
            ))
            # The engine finishes the runs of a POST schedule before the next target starts.
            await store.wait_until_idle(timeout=RUN_TIMEOUT_SECONDS)
    return outcomes


async def _measure(profile: Profile, workdir: Path, standin: StandinProcess, result: FigureResult) -> None:
    data_dir = workdir / "api_load"
    database_url = f"sqlite:///{(data_dir / 'falflow.sqlite').resolve()}"
    standin.reset()
    env = app_environment(data_dir, fal_url=standin.url, poll_interval=0.1, starter_grant_credits="1000000000")
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    bare_server = ServerProcess("bench.bare_app", env, workdir / "logs" / "bare-app.log",
                                ready_path="/bare/health",
                                extra_args=["--database-url", database_url, "--engine-dir", str(workdir / "bare_engine")])
    profile_path = workdir / "profiles" / "api-load-app.txt"
    with api_server(env, workdir / "logs" / "api-load-app.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as api:
            seeded = await _seed(api, profile.load_seed_workflows)
            with bare_server as bare_process:
                async with httpx.AsyncClient(base_url=bare_process.url, timeout=60, limits=limits) as bare:
                    targets = _targets(api, bare, seeded, profile)
                    store = RunStore(data_dir / "falflow.sqlite")
                    # The capacity runs also warm both servers up before the schedules.
                    capacities = await _capacities(targets, store, profile.load_capacity_seconds)
                    with profile_server(profile.profile_servers, server.pid, profile_path):
                        outcomes = await _apply_load(targets, profile, store)

    if profile.profile_servers:
        result.notes.append(describe_profile(profile_path, "the API server under all four schedules"))
    rate = profile.load_rate_per_second
    for name, results in outcomes.items():
        result.metrics.append(Metric(f"{name} at {rate:g} req/s", _describe(results)))
        result.metrics.append(Metric(f"{name}: closed-loop capacity ({CAPACITY_WORKERS} clients)",
                                     f"{capacities[name]:.0f} req/s"))
    for api_name, bare_name in (("GET /api/workflows", "bare GET"), ("POST /api/workflows/{id}/run", "bare POST")):
        p99 = _p99(outcomes[api_name])
        errors = _errors(outcomes[api_name])
        ratio = p99 / _p99(outcomes[bare_name])
        result.metrics.append(Metric.checked(
            f"{api_name}: p99 at {rate:g} req/s", f"{p99:.1f} ms ({errors} failed requests)",
            f"≤ {MAX_P99_MS:g} ms, no failures", p99 <= MAX_P99_MS and errors == 0,
        ))
        result.metrics.append(Metric.checked(f"{api_name}: p99 / {bare_name} p99", f"{ratio:.2f}×",
                                             f"≤ {MAX_BARE_RATIO}×", ratio <= MAX_BARE_RATIO))
    result.method += [
        f"Open-loop schedule of {rate:g} req/s for {profile.load_seconds:g} s per read target and "
        f"{profile.load_run_seconds:g} s per run target, {profile.load_repetitions} repetitions, targets in turn. "
        "Every accepted run is engine work that the next target must not share, so the run schedules are shorter "
        "and each target starts once no run is unfinished.",
        f"Client: asyncio httpx on loopback with up to {MAX_CONNECTIONS} keep-alive connections. Latency runs from "
        "the scheduled send time to the full response; the medians over repetitions of p50, p95 and p99 are shown, "
        "over the requests that succeeded (failures, such as 60 s client timeouts, are counted apart). The client "
        "shares the machine's cores with both servers, so a large send lag means the client fell behind its schedule.",
        f"Capacity: {CAPACITY_WORKERS} clients sending back to back for {profile.load_capacity_seconds:g} s per "
        "target, before the schedules.",
        f"The account owns {profile.load_seed_workflows} workflows of 5 nodes (the list returns all of them). "
        "`POST …/run` runs a one-node utility workflow with bearer authentication; the bare routes skip "
        "authentication. Both servers: uvicorn, one worker, access log off, SQLite in WAL mode.",
        "The bare POST writes one row in one transaction, so its ratio shows what a run start costs beyond a "
        "minimal write (validation, estimate, credit hold, run snapshot, DBOS workflow start). The bare POST + "
        "DBOS workflow start writes the same row on a thread, then starts an empty DBOS workflow on a system "
        "database of its own with falflow's DBOS settings: the least a durable run start costs here.",
    ]


def measure(profile: Profile, workdir: Path, standin: StandinProcess) -> FigureResult:
    result = FigureResult(
        key=KEY,
        title="`GET /api/workflows` and `POST …/run` under load from a loopback client",
        baseline="a bare FastAPI route reading the same database with the same query shape (`bench/bare_app.py`)",
        target=f"p99 ≤ {MAX_P99_MS:g} ms at {profile.load_rate_per_second:g} requests/s; "
               f"≤ {MAX_BARE_RATIO}× the bare route",
    )
    started = time.perf_counter()
    asyncio.run(_measure(profile, workdir, standin, result))
    result.seconds = time.perf_counter() - started
    return result
