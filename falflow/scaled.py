"""Run the scaled set-up on one machine: `make scale` (or `python -m falflow.scaled`).

Starts M run workers and the Reflex app with several web workers, all on PostgreSQL and Redis,
plus shared fal and Stripe stand-ins in sandbox mode, and stops them all on Ctrl+C. It is the
executable form of docs/deploy.md; production deployments run the same commands under their
own process manager.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/falflow"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
FAL_STANDIN_PORT = 8710
STRIPE_STANDIN_PORT = 8420


def ensure_database(url: str) -> None:
    """Create the database named in `url` when it does not exist yet."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m falflow.scaled", description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="Run worker processes (default 2).")
    parser.add_argument("--web-workers", type=int, default=2, help="Reflex web worker processes (default 2).")
    parser.add_argument("--port", type=int, default=3000, help="Port of the app (default 3000).")
    parser.add_argument("--host", default="127.0.0.1", help="Interface the app listens on (default 127.0.0.1).")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("FALFLOW_DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("FALFLOW_REDIS_URL", DEFAULT_REDIS_URL)
    env.setdefault("REFLEX_REDIS_URL", env["FALFLOW_REDIS_URL"])
    env.setdefault("GRANIAN_WORKERS", str(args.web_workers))
    env["FALFLOW_RUN_WORKERS_EXTERNAL"] = "true"
    env.setdefault("FALFLOW_PUBLIC_URL", f"http://localhost:{args.port}")
    ensure_database(env["FALFLOW_DATABASE_URL"])

    processes: list[subprocess.Popen[bytes]] = []

    def spawn(*command: str, extra: dict[str, str] | None = None) -> None:
        processes.append(subprocess.Popen(list(command), env={**env, **(extra or {})}))

    python = sys.executable
    if not env.get("FAL_KEY") and not env.get("FALFLOW_FAL_KEY"):
        spawn(python, "-m", "falflow.sandbox.fal", "--port", str(FAL_STANDIN_PORT))
        env.setdefault("FALFLOW_SANDBOX_FAL_URL", f"http://127.0.0.1:{FAL_STANDIN_PORT}")
    if not env.get("STRIPE_SECRET_KEY") and not env.get("FALFLOW_STRIPE_SECRET_KEY"):
        spawn(python, "-m", "falflow.sandbox.stripe", "--port", str(STRIPE_STANDIN_PORT))
        env.setdefault("FALFLOW_SANDBOX_STRIPE_URL", f"http://127.0.0.1:{STRIPE_STANDIN_PORT}")
    time.sleep(2)

    for index in range(args.workers):
        spawn(python, "-m", "falflow.worker", "--executor-id", f"worker-{index + 1}")
    time.sleep(3)  # the first worker migrates the databases before the web processes start
    reflex = shutil.which("reflex", path=str(Path(python).parent)) or "reflex"
    spawn(reflex, "run", "--env", "prod", "--frontend-port", str(args.port), "--backend-port", str(args.port),
          "--backend-host", args.host)
    print(f"falflow (scaled: {args.workers} run workers, {args.web_workers} web workers) on http://localhost:{args.port}", flush=True)

    def stop(*_: object) -> None:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(1)
        failed = [process.args for process in processes if process.poll() not in (None, 0)]
        if failed:
            print(f"a process exited: {failed}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
