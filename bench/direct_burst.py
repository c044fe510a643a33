"""A reference for the burst figure: the burst's fal calls made directly, without the engine.

Each of `--runs` chains submits its nodes in sequence through `FalGateway`, follows each request's
status stream and fetches its result, as the chain figure's baseline does, and also downloads
each output as the engine does. Nothing is stored. The process reports its wall time and its own
CPU time, so the figure can set the engine's cost per node beside the cost of the calls alone:

    python -m bench.direct_burst --fal-url URL --runs 500 --nodes 5

It prints one JSON object: `{"wall_seconds": ..., "cpu_seconds": ..., "failed": ...}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time

from bench.direct_calls import call_chain
from falflow.integrations.fal import FalGateway, FalGatewayConfig


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(fal_url: str, runs: int, nodes: int) -> dict[str, float | int]:
    config = FalGatewayConfig(sandbox_url=fal_url, poll_interval=0.1, status_stream=True)
    async with FalGateway(config) as gateway:
        # One chain first warms imports and connection pools, as the figure's warm-up run does.
        await call_chain(gateway, 1, seed=0, download_outputs=True)
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        chains = (call_chain(gateway, nodes, seed=seed, download_outputs=True) for seed in range(1, runs + 1))
        outcomes = await asyncio.gather(*chains, return_exceptions=True)
        wall = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    return {"wall_seconds": wall, "cpu_seconds": cpu,
            "failed": sum(1 for outcome in outcomes if isinstance(outcome, BaseException))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.direct_burst", description=__doc__)
    parser.add_argument("--fal-url", required=True, help="The stand-in's base URL.")
    parser.add_argument("--runs", type=int, default=500, help="Chains started at once.")
    parser.add_argument("--nodes", type=int, default=5, help="fal requests per chain.")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_measure(args.fal_url, args.runs, args.nodes))))


if __name__ == "__main__":
    main()
