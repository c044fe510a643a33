"""Figure: hundreds of concurrent runs in one API process, then a memory soak over thousands of runs.

One account starts every run. The per-user and global fal concurrency caps are raised above the
number of runs and the stand-in runs up to 1,000 requests at once, so only the API process
itself can throttle the burst. Memory is the API process's resident set, read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.api_client import create_workflow, sign_up, start_run
from bench.documents import fal_chain
from bench.processes import (
    PROJECT_ROOT,
    STANDIN_MAX_CONCURRENCY,
    ServerProcess,
    StandinProcess,
    api_server,
    app_environment,
)
from bench.profiles import Profile
from bench.profiling import describe_profile, profile_server
from bench.results import FigureResult, Metric
from bench.run_store import RunsStalledError, RunStore
from bench.stats import Summary, percentile

KEY = "concurrency"
MAX_WALL_RATIO = 1.3
MAX_PEAK_RSS_MIB = 400.0
MAX_SOAK_GROWTH = 0.10
STANDIN_LOG_LINES = 3
# The soak runs one-node workflows so that 2,000 runs fit the time budget of `make bench`.
SOAK_NODES = 1
# Concurrent POST /run requests while starting a burst.
START_CONCURRENCY = 50
MIB = 1024 * 1024
RUN_TIMEOUT_SECONDS = 900.0
# Engine failures worth counting in the server log when runs stall.
LOCK_ERROR = "database is locked"


def _server_settings(runs: int) -> dict[str, str]:
    return {
        "starter_grant_credits": "1000000000",
        "run_per_user_concurrency": str(max(runs, 1)),
        "run_global_concurrency": str(max(runs, 1)),
    }


async def _start_runs(client: httpx.AsyncClient, headers: dict[str, str], workflow_id: str, count: int) -> list[str]:
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one() -> str:
        async with gate:
            return await start_run(client, headers, workflow_id)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _sample_rss(server: ServerProcess, samples: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(server.memory_bytes()[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.2)


def _lock_errors(server: ServerProcess) -> str:
    count = server.log_path.read_text(errors="replace").count(LOCK_ERROR)
    return f"The API server's log has {count} '{LOCK_ERROR}' error(s)."


@dataclass
class BurstSample:
    wall: float
    start_seconds: float
    per_run: list[float]
    failed: int
    # CPU time the API process used from the first POST until every run had finished.
    cpu_seconds: float
    # CPU time the stand-in used meanwhile.
    standin_cpu_seconds: float


@dataclass
class DirectSample:
    """One burst of the same fal calls made directly, without the engine (`bench.direct_burst`)."""

    wall: float
    cpu_seconds: float
    standin_cpu_seconds: float
    failed: int


def _direct_burst(standin: StandinProcess, runs: int, nodes: int) -> DirectSample:
    """Run `bench.direct_burst` in its own process against the stand-in and return what it measured."""
    standin.reset()
    standin_before = standin.cpu_seconds()
    completed = subprocess.run(
        [sys.executable, "-m", "bench.direct_burst", "--fal-url", standin.url, "--runs", str(runs), "--nodes", str(nodes)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench.direct_burst exited with code {completed.returncode}; the end of its error output: "
                           f"{completed.stderr[-2000:]}")
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    return DirectSample(wall=measured["wall_seconds"], cpu_seconds=measured["cpu_seconds"],
                        standin_cpu_seconds=standin.cpu_seconds() - standin_before, failed=measured["failed"])


async def _one_burst(
    client: httpx.AsyncClient, headers: dict[str, str], workflow_id: str, store: RunStore, server: ServerProcess,
    standin: StandinProcess, runs: int, result: FigureResult,
) -> BurstSample:
    standin.reset()
    cpu_before = server.cpu_seconds()
    standin_before = standin.cpu_seconds()
    started = time.time()
    run_ids = await _start_runs(client, headers, workflow_id, runs)
    all_started = time.time()
    try:
        await store.wait_until_idle(timeout=RUN_TIMEOUT_SECONDS)
    except RunsStalledError as exc:
        result.notes.append(f"Burst: {exc}. {_lock_errors(server)}")
    cpu_seconds = server.cpu_seconds() - cpu_before
    standin_cpu_seconds = standin.cpu_seconds() - standin_before
    finished = store.runs(run_ids)
    failed = [run for run in finished if run.status != "succeeded"]
    if failed:
        result.notes.append(f"{len(failed)} of {runs} burst runs did not succeed (status "
                            f"{', '.join(sorted({run.status for run in failed}))}); first error: {failed[0].error}")
    done = [run for run in finished if run.finished_at is not None]
    return BurstSample(
        wall=max(run.finished_at.timestamp() for run in done if run.finished_at) - started,
        start_seconds=all_started - started,
        per_run=[(run.finished_at - run.created_at).total_seconds() for run in done if run.finished_at],
        failed=len(failed),
        cpu_seconds=cpu_seconds,
        standin_cpu_seconds=standin_cpu_seconds,
    )


async def _burst(profile: Profile, workdir: Path, standin: StandinProcess, result: FigureResult) -> None:
    runs = profile.burst_runs
    data_dir = workdir / "burst"
    standin.use_timing(run_seconds=profile.burst_latency_seconds, log_count=STANDIN_LOG_LINES)
    standin.reset()
    env = app_environment(data_dir, fal_url=standin.url, poll_interval=profile.burst_poll_seconds,
                          **_server_settings(runs))
    samples: list[BurstSample] = []
    rss_samples: list[int] = []
    with api_server(env, workdir / "logs" / "burst-app.log") as server:
        store = RunStore(data_dir / "falflow.sqlite")
        async with httpx.AsyncClient(base_url=server.url, timeout=120,
                                     limits=httpx.Limits(max_connections=START_CONCURRENCY)) as client:
            headers = await sign_up(client)
            workflow_id = await create_workflow(client, headers, "bench burst", fal_chain(profile.burst_nodes, seed=None))
            if profile.warm_up:
                await start_run(client, headers, workflow_id)
                await store.wait_until_idle(timeout=RUN_TIMEOUT_SECONDS)
            rss_before = server.memory_bytes()[0]
            stop = asyncio.Event()
            sampler = asyncio.create_task(_sample_rss(server, rss_samples, stop))
            profile_path = workdir / "profiles" / "burst-app.txt"
            with profile_server(profile.profile_servers, server.pid, profile_path):
                for _ in range(profile.burst_repetitions):
                    samples.append(await _one_burst(client, headers, workflow_id, store, server, standin, runs, result))
            stop.set()
            await sampler
            peak_rss = server.memory_bytes()[1]
    # The reference runs after the API server has stopped, so the two do not share the cores.
    direct = [await asyncio.to_thread(_direct_burst, standin, runs, profile.burst_nodes)
              for _ in range(profile.burst_repetitions)]

    if profile.profile_servers:
        result.notes.append(describe_profile(profile_path, "the API server during the bursts"))
    ideal = profile.burst_nodes * profile.burst_latency_seconds
    wall = Summary.of([sample.wall for sample in samples])
    per_run = [value for sample in samples for value in sample.per_run]
    failed = sum(sample.failed for sample in samples)
    ratio = wall.median / ideal
    fal_nodes = runs * profile.burst_nodes
    cpu_per_node = Summary.of([sample.cpu_seconds / fal_nodes for sample in samples])
    busy = Summary.of([sample.cpu_seconds / sample.wall for sample in samples])
    # With one busy core, the target wall allows at most this much CPU time per fal node.
    budget_ms = MAX_WALL_RATIO * ideal / fal_nodes * 1000
    direct_wall = Summary.of([sample.wall for sample in direct])
    standin_engine = Summary.of([sample.standin_cpu_seconds / fal_nodes for sample in samples])
    standin_direct = Summary.of([sample.standin_cpu_seconds / fal_nodes for sample in direct])
    result.metrics += [
        Metric.checked("burst wall (first POST sent → last run finished) / ideal",
                       f"{wall.describe('s', digits=2)} / {ideal:g} s = {ratio:.2f}×", f"≤ {MAX_WALL_RATIO}×",
                       ratio <= MAX_WALL_RATIO),
        Metric("API server CPU per fal node (user + system, all its threads)",
               f"{cpu_per_node.describe('ms', scale=1000)}; at the target wall one busy core allows "
               f"{budget_ms:.1f} ms"),
        Metric("API server CPU time / burst wall (busy cores on average)", busy.describe("cores", digits=2)),
        Metric("time to start all runs (POST /run × N)",
               Summary.of([sample.start_seconds for sample in samples]).describe("s", digits=2)),
        Metric("per-run wall (created → finished), all bursts", Summary.of(per_run).describe("s", digits=2)
               + f"; p95 {percentile(per_run, 0.95):.2f} s"),
        Metric.checked(
            "peak RSS of the API process",
            f"{peak_rss / MIB:.0f} MiB (before the bursts {rss_before / MIB:.0f} MiB; "
            f"max sampled every 0.2 s {max(rss_samples, default=0) / MIB:.0f} MiB)",
            f"≤ {MAX_PEAK_RSS_MIB:g} MiB", peak_rss / MIB <= MAX_PEAK_RSS_MIB,
        ),
        Metric("runs succeeded", f"{runs * len(samples) - failed} / {runs * len(samples)}"),
        Metric("reference: the same fal calls made directly, without the engine, wall / ideal",
               f"{direct_wall.describe('s', digits=2)} / {ideal:g} s = {direct_wall.median / ideal:.2f}×; "
               f"engine wall / direct wall {wall.median / direct_wall.median:.2f}×; "
               f"failed chains {sum(sample.failed for sample in direct)}"),
        Metric("reference: CPU per fal node of the direct calls' process",
               Summary.of([sample.cpu_seconds / fal_nodes for sample in direct]).describe("ms", scale=1000)),
        Metric("stand-in CPU per fal request, during the engine's burst / during the direct calls",
               f"{standin_engine.median * 1000:.1f} ms / {standin_direct.median * 1000:.1f} ms"),
    ]
    result.method += [
        f"Burst: {runs} runs of a {profile.burst_nodes}-node chain (flux then background removal, 256×256, a seed "
        "per run, so every output is a new file with a thumbnail), started "
        f"through `POST /api/workflows/{{id}}/run` with {START_CONCURRENCY} requests in flight. One account starts "
        f"them all, with FALFLOW_RUN_PER_USER_CONCURRENCY = FALFLOW_RUN_GLOBAL_CONCURRENCY = {runs} and a large "
        f"starter grant (FALFLOW_STARTER_GRANT_CREDITS). {profile.burst_repetitions} burst(s) run in one API "
        "process, each started once the previous one had finished.",
        f"Stand-in (own process): queue 0 s, run {profile.burst_latency_seconds:g} s, {STANDIN_LOG_LINES} log lines, "
        f"max_concurrency {STANDIN_MAX_CONCURRENCY}; the engine polls every {profile.burst_poll_seconds * 1000:g} ms. "
        f"Ideal wall = graph depth × latency = {ideal:g} s.",
        "Peak RSS is the kernel's high-water mark (VmHWM) of the `python -m falflow.serve_api` process, which "
        "includes its start-up" + (" and one warm-up run." if profile.warm_up else "."),
        f"Reference: after the API server has stopped, `bench.direct_burst` (its own process) starts {runs} chains "
        "at once against the same stand-in and timing. Each chain submits its requests in sequence through "
        "`FalGateway`, follows each status stream, fetches the result and downloads the output, and stores "
        "nothing. It shows what the fal calls alone cost in one process on this machine, and what the stand-in "
        "costs beside them: both share the machine's cores with the process they serve.",
    ]


async def _soak(profile: Profile, workdir: Path, standin: StandinProcess, result: FigureResult) -> None:
    data_dir = workdir / "soak"
    wave = profile.soak_wave_runs
    standin.use_timing(run_seconds=profile.soak_latency_seconds, log_count=STANDIN_LOG_LINES)
    standin.reset()
    env = app_environment(data_dir, fal_url=standin.url, poll_interval=profile.burst_poll_seconds,
                          **_server_settings(wave))
    with api_server(env, workdir / "logs" / "soak-app.log") as server:
        store = RunStore(data_dir / "falflow.sqlite")
        async with httpx.AsyncClient(base_url=server.url, timeout=120,
                                     limits=httpx.Limits(max_connections=START_CONCURRENCY)) as client:
            headers = await sign_up(client)
            workflow_id = await create_workflow(client, headers, "bench soak", fal_chain(SOAK_NODES, seed=None))
            done = 0
            checkpoints: list[tuple[int, int]] = []
            started = time.perf_counter()
            while done < profile.soak_runs:
                count = min(wave, profile.soak_runs - done)
                await _start_runs(client, headers, workflow_id, count)
                try:
                    await store.wait_until_idle(timeout=RUN_TIMEOUT_SECONDS)
                except RunsStalledError as exc:
                    result.notes.append(f"Soak after {done + count} runs: {exc}. {_lock_errors(server)}")
                    checkpoints.append((done + count, server.memory_bytes()[0]))
                    break
                # The stand-in keeps every request and file; dropping them keeps its own memory flat.
                standin.reset()
                done += count
                checkpoints.append((done, server.memory_bytes()[0]))
            elapsed = time.perf_counter() - started
            peak_rss = server.memory_bytes()[1]

    at_checkpoint = next((rss for runs, rss in checkpoints if runs >= profile.soak_checkpoint_runs), checkpoints[0][1])
    total, at_end = checkpoints[-1]
    growth = at_end / at_checkpoint - 1
    result.metrics += [
        Metric.checked(
            f"RSS after {checkpoints[-1][0]} runs vs after {profile.soak_checkpoint_runs}",
            f"{at_end / MIB:.0f} MiB vs {at_checkpoint / MIB:.0f} MiB ({growth * 100:+.1f} %)",
            f"within ±{MAX_SOAK_GROWTH * 100:g} %", abs(growth) <= MAX_SOAK_GROWTH,
        ),
        Metric("RSS after each wave", ", ".join(f"{runs}: {rss / MIB:.0f}" for runs, rss in checkpoints) + " MiB"),
        Metric("soak peak RSS", f"{peak_rss / MIB:.0f} MiB"),
        Metric("soak throughput", f"{total / elapsed:.1f} runs/s ({total} runs in {elapsed:.0f} s)"),
    ]
    result.method.append(
        f"Soak: a fresh API process runs {profile.soak_runs} runs of a {SOAK_NODES}-node workflow (flux, 256×256) in "
        f"waves of {wave} concurrent runs, stand-in latency {profile.soak_latency_seconds:g} s. One-node runs keep "
        "the soak within the time budget, so it tests growth per run and the burst covers growth per node. "
        "RSS is read after each wave has finished."
    )


async def _measure(profile: Profile, workdir: Path, standin: StandinProcess, result: FigureResult) -> None:
    await _burst(profile, workdir, standin, result)
    await _soak(profile, workdir, standin, result)


def measure(profile: Profile, workdir: Path, standin: StandinProcess) -> FigureResult:
    result = FigureResult(
        key=KEY,
        title=f"{profile.burst_runs} concurrent {profile.burst_nodes}-node runs in one process, "
              f"stand-in latency {profile.burst_latency_seconds:g} s",
        baseline=f"ideal wall from the graph depth ({profile.burst_nodes} × {profile.burst_latency_seconds:g} s)",
        target=f"≤ {MAX_WALL_RATIO}× ideal; peak RSS ≤ {MAX_PEAK_RSS_MIB:g} MiB; RSS after "
               f"{profile.soak_runs} runs within {MAX_SOAK_GROWTH * 100:g} % of after {profile.soak_checkpoint_runs}",
    )
    started = time.perf_counter()
    asyncio.run(_measure(profile, workdir, standin, result))
    result.seconds = time.perf_counter() - started
    return result
