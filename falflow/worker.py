"""A run worker: `python -m falflow.worker`.

Runs take the `falflow-runs` queue on PostgreSQL, execute their nodes, and recover the
workflows of workers that died. Web processes started with FALFLOW_RUN_WORKERS_EXTERNAL=true
only enqueue. Each worker needs a unique executor id (by default host name and process id).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket

from falflow.context import get_context
from falflow.kit.logging import configure_logging
from falflow.runtime import running_services


def default_executor_id() -> str:
    return f"worker-{socket.gethostname()}-{os.getpid()}"


async def serve(executor_id: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running_services(role="worker", executor_id=executor_id):
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m falflow.worker", description=__doc__)
    parser.add_argument("--executor-id", default=None, help="Unique id of this worker (default: worker-<host>-<pid>).")
    args = parser.parse_args(argv)
    settings = get_context().settings
    configure_logging(settings.log_level, json_lines=settings.log_json)
    asyncio.run(serve(args.executor_id or default_executor_id()))


if __name__ == "__main__":
    main()
