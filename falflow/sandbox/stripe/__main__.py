"""Run the Stripe stand-in on its own: `python -m falflow.sandbox.stripe [--port N]`.

It reads falflow's settings for the data folder (webhook secret) and `public_url` (where events
go). Point the app at it with `FALFLOW_SANDBOX_STRIPE_URL=http://127.0.0.1:<port>`.
"""

from __future__ import annotations

import argparse
import threading

from falflow.sandbox.stripe.wiring import start_sandbox_stripe
from falflow.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m falflow.sandbox.stripe", description=__doc__)
    parser.add_argument("--port", type=int, default=8420, help="TCP port on 127.0.0.1 (0 picks a free one).")
    args = parser.parse_args(argv)
    standin = start_sandbox_stripe(get_settings(), port=args.port)
    print(f"Stripe stand-in listening on {standin.url}; press Ctrl+C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
