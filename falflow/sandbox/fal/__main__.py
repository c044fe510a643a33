"""Run the fal stand-in as its own process: ``python -m falflow.sandbox.fal --port 8710``.

It prints its URL on stdout once listening, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from falflow.sandbox.fal.app import create_fal_standin
from falflow.sandbox.fal.config import FalStandinConfig
from falflow.sandbox.fal.runner import bind_socket, build_server, origin_of

DEFAULT_PORT = 8710


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m falflow.sandbox.fal", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"TCP port; 0 picks a free one (default {DEFAULT_PORT})."
    )
    parser.add_argument("--config", type=Path, help="JSON file with a FalStandinConfig; the options below override it.")
    parser.add_argument("--queue-seconds", type=float, help="Simulated queue time per request, in seconds.")
    parser.add_argument(
        "--run-seconds", "--latency", dest="run_seconds", type=float, help="Simulated run time per request, in seconds."
    )
    parser.add_argument("--log-count", type=int, help="Progress log lines per request.")
    parser.add_argument("--time-scale", type=float, help="Multiplier for every simulated duration; 0 is instant.")
    parser.add_argument("--max-concurrency", type=int, help="Requests that run at the same time.")
    parser.add_argument("--log-level", default="INFO", help="Python logging level (default INFO).")
    return parser.parse_args(argv)


def load_config(args: argparse.Namespace) -> FalStandinConfig:
    config = FalStandinConfig.model_validate_json(args.config.read_text("utf-8")) if args.config else FalStandinConfig()
    timing_updates = {
        key: value
        for key, value in (
            ("queue_seconds", args.queue_seconds),
            ("run_seconds", args.run_seconds),
            ("log_count", args.log_count),
        )
        if value is not None
    }
    updates: dict[str, object] = {}
    if timing_updates:
        updates["timing"] = config.timing.model_copy(update=timing_updates)
    if args.time_scale is not None:
        updates["time_scale"] = args.time_scale
    if args.max_concurrency is not None:
        updates["max_concurrency"] = args.max_concurrency
    # Validate again, because model_copy does not check the overridden values.
    return FalStandinConfig.model_validate(config.model_copy(update=updates).model_dump())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = load_config(args)
    sock = bind_socket(args.host, args.port)
    url = origin_of(sock)
    server = build_server(create_fal_standin(config))
    print(f"fal stand-in listening on {url}", flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
