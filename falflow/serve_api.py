"""Serve the API and the run engine without the Reflex UI: `python -m falflow.serve_api --port 8080`.

Useful for scripts that only drive `/api`, for benchmarks, and for crash-recovery tests that
kill the process; the full app is `make run`.
"""

from __future__ import annotations

import argparse

import uvicorn

from falflow.api import create_standalone_app
from falflow.context import get_context
from falflow.kit.logging import configure_logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m falflow.serve_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080).")
    args = parser.parse_args(argv)
    settings = get_context().settings
    configure_logging(settings.log_level, json_lines=settings.log_json)
    uvicorn.run(create_standalone_app(), host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
