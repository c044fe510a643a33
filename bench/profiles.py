"""Sizes of every figure in a full run (`python -m bench`) and in a smoke run (`--smoke`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    # One unmeasured round before measuring; the smoke run skips it to stay short.
    warm_up: bool
    # Figure 1: one chain of fal nodes against the same calls made directly.
    chain_nodes: int
    chain_repetitions: int
    chain_latency_seconds: float
    # Engine and baseline poll the stand-in at this interval (FALFLOW_FAL_POLL_INTERVAL_SECONDS).
    chain_poll_seconds: float
    # Figure 2: many concurrent runs in one process, then a memory soak.
    burst_runs: int
    burst_nodes: int
    burst_latency_seconds: float
    burst_poll_seconds: float
    burst_repetitions: int
    soak_runs: int
    soak_checkpoint_runs: int
    soak_wave_runs: int
    soak_latency_seconds: float
    # Figure 3: open-loop load on the API and on the bare route.
    load_rate_per_second: float
    load_seconds: float
    # Every accepted run also becomes engine work, so the run schedule is kept shorter than the reads'.
    load_run_seconds: float
    # Closed-loop capacity measurement per target, before the schedules.
    load_capacity_seconds: float
    load_repetitions: int
    load_seed_workflows: int
    # Figure 6: gallery first page.
    gallery_assets: int
    gallery_page_size: int
    gallery_repetitions: int
    # Figures 4 and 5 need Chromium and the app in Reflex prod mode.
    browser: bool
    dom_runs: int
    editor_node_counts: tuple[int, ...]
    editor_repetitions: int
    # Sample the measured API servers with py-spy and add their hottest falflow frames to the notes.
    profile_servers: bool = False


FULL = Profile(
    name="full",
    warm_up=True,
    chain_nodes=10, chain_repetitions=7, chain_latency_seconds=0.1, chain_poll_seconds=0.02,
    burst_runs=500, burst_nodes=5, burst_latency_seconds=1.0, burst_poll_seconds=0.1, burst_repetitions=1,
    soak_runs=2000, soak_checkpoint_runs=200, soak_wave_runs=200, soak_latency_seconds=0.1,
    load_rate_per_second=200.0, load_seconds=10.0, load_run_seconds=3.0, load_capacity_seconds=3.0,
    load_repetitions=3, load_seed_workflows=20,
    gallery_assets=10_000, gallery_page_size=50, gallery_repetitions=30,
    browser=True, dom_runs=20, editor_node_counts=(50, 300), editor_repetitions=5,
)

SMOKE = Profile(
    name="smoke",
    warm_up=False,
    chain_nodes=3, chain_repetitions=1, chain_latency_seconds=0.05, chain_poll_seconds=0.02,
    burst_runs=6, burst_nodes=3, burst_latency_seconds=0.2, burst_poll_seconds=0.1, burst_repetitions=1,
    soak_runs=10, soak_checkpoint_runs=5, soak_wave_runs=5, soak_latency_seconds=0.05,
    load_rate_per_second=40.0, load_seconds=0.5, load_run_seconds=0.5, load_capacity_seconds=0.3,
    load_repetitions=1, load_seed_workflows=5,
    gallery_assets=300, gallery_page_size=50, gallery_repetitions=3,
    browser=False, dom_runs=0, editor_node_counts=(), editor_repetitions=0,
)
