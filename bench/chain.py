"""Figure: one chain of fal nodes through the engine, against the same fal calls made directly.

Both sides talk to one stand-in process with the same simulated latency and poll it at the
same interval. Repetitions alternate baseline and engine so that machine noise hits both.
Orchestration per node is measured two ways: from the wall times, and from the stand-in's
request timestamps (the gap between one request's completion and the next request's submit).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.api_client import create_workflow, sign_up, start_run
from bench.direct_calls import run_direct_chain
from bench.documents import fal_chain
from bench.processes import PROJECT_ROOT, StandinProcess, api_server, app_environment
from bench.profiles import Profile
from bench.profiling import describe_profile, profile_server
from bench.results import FigureResult, Metric
from bench.run_store import ItemTimes, RunStore
from bench.stats import Summary
from falflow.integrations.fal import FalGateway, FalGatewayConfig

KEY = "chain"
MAX_WALL_RATIO = 1.05
MAX_ORCHESTRATION_MS = 5.0
STANDIN_LOG_LINES = 3
SEED = 7


def submit_gaps(requests: list[dict[str, Any]]) -> list[float]:
    """Return, in seconds, the gap between each request's completion and the next request's submit."""
    ordered = sorted(requests, key=lambda request: request["created_at"])
    return [
        later["created_at"] - earlier["completed_at"]
        for earlier, later in itertools.pairwise(ordered)
        if earlier["completed_at"] is not None
    ]


@dataclass
class GapParts:
    """Breakdown of the engine's time between two fal requests of a chain, in seconds per node."""

    # From the stand-in completing request i to the engine marking item i succeeded: status poll,
    # result fetch, output download, asset storage and the charge.
    finish: list[float] = field(default_factory=list)
    # From item i succeeded to item i+1 picked up: the rest of the success transaction (events, the
    # run's advance), the DBOS step checkpoint and the next item's workflow start.
    advance: list[float] = field(default_factory=list)
    # From item i+1 picked up to the stand-in receiving its submit: loading the item and submitting.
    submit: list[float] = field(default_factory=list)

    def extend(self, other: GapParts) -> None:
        self.finish += other.finish
        self.advance += other.advance
        self.submit += other.submit


def dbos_floor(workdir: Path, hops: int, repetitions: int) -> list[float]:
    """Run `bench.dbos_floor` in its own process and return its per-hop times in seconds."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.dbos_floor", "--data-dir", str(workdir / "dbos_floor"), "--hops", str(hops),
         "--repetitions", str(repetitions)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench.dbos_floor failed with code {completed.returncode}: {completed.stderr[-2000:]}")
    return [float(value) for value in json.loads(completed.stdout.strip().splitlines()[-1])["hop_seconds"]]


def gap_parts(requests: list[dict[str, Any]], items: list[ItemTimes]) -> GapParts:
    """Split each gap between consecutive requests using the item rows' timestamps."""
    by_request = {item.fal_request_id: item for item in items if item.fal_request_id}
    ordered = sorted(requests, key=lambda request: request["created_at"])
    parts = GapParts()
    for earlier, later in itertools.pairwise(ordered):
        first = by_request.get(earlier["request_id"])
        second = by_request.get(later["request_id"])
        if first is None or second is None or first.finished_at is None or second.dispatched_at is None:
            continue
        parts.finish.append(first.finished_at.timestamp() - earlier["completed_at"])
        parts.advance.append((second.dispatched_at - first.finished_at).total_seconds())
        parts.submit.append(later["created_at"] - second.dispatched_at.timestamp())
    return parts


async def _engine_chain(
    client: httpx.AsyncClient, headers: dict[str, str], workflow_id: str, store: RunStore
) -> tuple[float, list[ItemTimes]]:
    run_id = await start_run(client, headers, workflow_id)
    await store.wait_until_idle(timeout=300, poll_seconds=0.01)
    (times,) = store.runs([run_id])
    if times.status != "succeeded" or times.finished_at is None:
        raise RuntimeError(f"the benchmark run {run_id} ended {times.status}: {times.error}")
    return (times.finished_at - times.created_at).total_seconds(), store.items(run_id)


async def _measure(profile: Profile, workdir: Path, standin: StandinProcess, result: FigureResult) -> None:
    nodes = profile.chain_nodes
    poll = profile.chain_poll_seconds
    data_dir = workdir / "chain"
    standin.use_timing(run_seconds=profile.chain_latency_seconds, log_count=STANDIN_LOG_LINES)
    standin.reset()
    env = app_environment(data_dir, fal_url=standin.url, poll_interval=poll, starter_grant_credits="10000000")
    with api_server(env, workdir / "logs" / "chain-app.log") as server:
        store = RunStore(data_dir / "falflow.sqlite")
        # The baseline follows statuses the engine's way (the status stream, the default of
        # FALFLOW_FAL_STATUS_STREAM); the polling gateway shows what a fal-client script gets.
        gateway = FalGateway(FalGatewayConfig(sandbox_url=standin.url, poll_interval=poll, status_stream=True))
        polling = FalGateway(FalGatewayConfig(sandbox_url=standin.url, poll_interval=poll))
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client, gateway, polling:
            headers = await sign_up(client)
            workflow_id = await create_workflow(client, headers, "bench chain", fal_chain(nodes, seed=None))
            if profile.warm_up:
                # One unmeasured round of each warms connection pools, imports and caches.
                await run_direct_chain(gateway, nodes, seed=SEED)
                await run_direct_chain(polling, nodes, seed=SEED)
                await _engine_chain(client, headers, workflow_id, store)

            baseline_walls: list[float] = []
            polling_walls: list[float] = []
            engine_walls: list[float] = []
            baseline_gaps: list[float] = []
            baseline_cpu: list[float] = []
            engine_cpu: list[float] = []
            engine_gaps: list[float] = []
            parts = GapParts()
            profile_path = workdir / "profiles" / "chain-app.txt"
            with profile_server(profile.profile_servers, server.pid, profile_path):
                for _ in range(profile.chain_repetitions):
                    standin.reset()
                    cpu_before = time.process_time()
                    baseline_walls.append(await run_direct_chain(gateway, nodes, seed=SEED))
                    baseline_cpu.append(time.process_time() - cpu_before)
                    baseline_gaps.append(statistics.median(submit_gaps(standin.requests())))
                    polling_walls.append(await run_direct_chain(polling, nodes, seed=SEED))
                    standin.reset()
                    cpu_before = server.cpu_seconds()
                    wall, items = await _engine_chain(client, headers, workflow_id, store)
                    engine_cpu.append(server.cpu_seconds() - cpu_before)
                    requests = standin.requests()
                    engine_walls.append(wall)
                    engine_gaps.append(statistics.median(submit_gaps(requests)))
                    parts.extend(gap_parts(requests, items))

    if profile.profile_servers:
        result.notes.append(describe_profile(profile_path, "the API server during the engine runs and the baseline"))
    floor = Summary.of(dbos_floor(workdir, max(nodes - 1, 1), profile.chain_repetitions))
    baseline = Summary.of(baseline_walls)
    engine = Summary.of(engine_walls)
    ratio = engine.median / baseline.median
    per_node_ms = [(e - b) / nodes * 1000 for e, b in zip(engine_walls, baseline_walls, strict=True)]
    per_node = Summary.of(per_node_ms)
    gap_ms = Summary.of([(e - b) * 1000 for e, b in zip(engine_gaps, baseline_gaps, strict=True)])

    result.metrics += [
        Metric("baseline wall (direct FalGateway calls)", baseline.describe("s", digits=3)),
        Metric("engine wall (run created → finished)", engine.describe("s", digits=3)),
        Metric("for reference: direct calls that poll the status (fal-client's only mode)",
               Summary.of(polling_walls).describe("s", digits=3)),
        Metric.checked("engine / baseline wall", f"{ratio:.3f}×", f"≤ {MAX_WALL_RATIO}×", ratio <= MAX_WALL_RATIO),
        Metric.checked(
            "orchestration per node, from walls", per_node.describe("ms"), f"≤ {MAX_ORCHESTRATION_MS:g} ms",
            per_node.median <= MAX_ORCHESTRATION_MS,
        ),
        Metric(
            "extra gap per node, from stand-in timestamps (engine − baseline median gap)", gap_ms.describe("ms"),
        ),
        Metric("median gap between requests, baseline", Summary.of(baseline_gaps).describe("ms", scale=1000)),
        Metric("median gap between requests, engine", Summary.of(engine_gaps).describe("ms", scale=1000)),
        Metric("engine gap part: completion → item succeeded (poll, result, download, store, charge)",
               Summary.of(parts.finish).describe("ms", scale=1000)),
        Metric("engine gap part: item succeeded → next item picked up (advance, DBOS checkpoint, workflow start)",
               Summary.of(parts.advance).describe("ms", scale=1000)),
        Metric("engine gap part: item picked up → submit reaches the stand-in",
               Summary.of(parts.submit).describe("ms", scale=1000)),
        Metric("DBOS floor: child workflow start + 1 empty step, same system database settings",
               floor.describe("ms", scale=1000)),
        Metric("CPU per node, baseline (benchmark process)",
               Summary.of([cpu / nodes for cpu in baseline_cpu]).describe("ms", scale=1000)),
        Metric("CPU per node, engine (API server process)",
               Summary.of([cpu / nodes for cpu in engine_cpu]).describe("ms", scale=1000)),
    ]
    result.method += [
        f"{nodes} fal nodes: `fal-ai/flux/schnell` ({256}×{256}) then {nodes - 1} × "
        "`fal-ai/bria/background/remove`; runs start with `force: true`, so the node cache never answers. The "
        f"baseline sends seed {SEED}; the engine picks a seed per run, so each run stores new files and thumbnails "
        "(a fixed seed would let every run after the first reuse the stored files).",
        f"Stand-in (own process): queue 0 s, run {profile.chain_latency_seconds:g} s, {STANDIN_LOG_LINES} log lines "
        "per request. The API server (`python -m falflow.serve_api`, SQLite) and the baseline both follow each "
        "request over fal's status stream (FALFLOW_FAL_STATUS_STREAM, FalGatewayConfig.status_stream), so both "
        "see its completion at once. The reference row polls instead, every "
        f"{poll * 1000:g} ms and then a tenth of the request's age (FalGatewayConfig.poll_interval and "
        "poll_backoff_ratio), as fal-client 1.0.3 can only poll.",
        "Baseline: `FalGateway.submit` → `watch` → `result(completed=True)` for each node in turn, from the "
        "benchmark process. "
        "Engine wall: the run row's `finished_at − created_at`; the engine also downloads and stores every "
        "output, charges credits and writes run events, which the baseline does not.",
        "CPU per node is user plus system time over all threads: the benchmark process's own (time.process_time) "
        "around the direct calls, and the API server's from /proc around each engine run. It shows how much of a "
        "node's orchestration is computation rather than waiting.",
        "The DBOS floor (`bench/dbos_floor.py`, its own process) chains child workflows of one empty step, as "
        "the engine chains node items, on a system database configured by `falflow.runs.engine.dbos_config`.",
        f"{profile.chain_repetitions} alternating repetitions"
        + (" after one unmeasured warm-up round of each." if profile.warm_up else ", without a warm-up round."),
    ]


def measure(profile: Profile, workdir: Path, standin: StandinProcess) -> FigureResult:
    result = FigureResult(
        key=KEY,
        title=f"{profile.chain_nodes}-node chain, stand-in latency {profile.chain_latency_seconds * 1000:g} ms",
        baseline="the same fal-client calls made directly through FalGateway, in sequence",
        target=f"≤ {MAX_WALL_RATIO}× wall; ≤ {MAX_ORCHESTRATION_MS:g} ms orchestration per node (median)",
    )
    started = time.perf_counter()
    asyncio.run(_measure(profile, workdir, standin, result))
    result.seconds = time.perf_counter() - started
    return result
