"""The DBOS share of the chain figure: a chain of child workflows with one step each and no other work.

falflow's engine runs every node item as a DBOS workflow with one checkpointed step (execute the
item, then advance the run) and starts the next item from the previous one. This program does
the same with empty steps, on a system database configured by `falflow.runs.engine.dbos_config`, so the
per-hop time is the floor that DBOS alone puts under each node. DBOS keeps process-wide state,
so the benchmark runs this as its own process:

    python -m bench.dbos_floor --data-dir DIR --hops 10 --repetitions 5

It prints one JSON object: `{"hop_seconds": [...]}` with one entry per hop of every repetition.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
import uuid
from pathlib import Path

from dbos import DBOS, SetWorkflowID

from falflow.runs.engine import dbos_config
from falflow.settings import Settings

# DBOS serialises workflow arguments, so the hops report their start times through this list.
_arrivals: list[float] = []


@DBOS.step(name="bench.floor.step")
async def _empty_step(index: int) -> int:
    return index


@DBOS.workflow(name="bench.floor.hop")
async def _hop(chain_id: str, index: int, last: int) -> None:
    _arrivals.append(time.perf_counter())
    await _empty_step(index)
    if index < last:
        with SetWorkflowID(f"{chain_id}:{index + 1}"):
            await DBOS.start_workflow_async(_hop, chain_id, index + 1, last)


async def _measure(hops: int, repetitions: int) -> list[float]:
    chains: list[list[float]] = []
    for _ in range(repetitions + 1):
        _arrivals.clear()
        chain_id = uuid.uuid4().hex
        with SetWorkflowID(f"{chain_id}:0"):
            await DBOS.start_workflow_async(_hop, chain_id, 0, hops)
        while len(_arrivals) <= hops:
            await asyncio.sleep(0.001)
        chains.append([later - earlier for earlier, later in itertools.pairwise(_arrivals)])
    # The first chain warms up the system database and is left out.
    return [hop for chain in chains[1:] for hop in chain]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dbos_floor", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="Folder for the DBOS system database.")
    parser.add_argument("--hops", type=int, default=10, help="Child workflows per chain.")
    parser.add_argument("--repetitions", type=int, default=5, help="Measured chains after one warm-up chain.")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{(args.data_dir / 'unused.sqlite').resolve()}"
    threads = Settings.model_fields["engine_threads"].default
    DBOS(config=dbos_config(database_url, args.data_dir, threads=threads))
    DBOS.launch()
    try:
        hops = asyncio.run(_measure(args.hops, args.repetitions))
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)
    print(json.dumps({"hop_seconds": hops}))


if __name__ == "__main__":
    main()
