"""Run the Stripe stand-in with uvicorn on a background thread, bound to 127.0.0.1 only."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp

from falflow.sandbox.stripe.app import create_standin_app
from falflow.sandbox.stripe.delivery import WebhookDeliverer
from falflow.sandbox.stripe.store import StripeStore

logger = logging.getLogger("falflow.sandbox.stripe")

LOOPBACK_HOST = "127.0.0.1"
_START_TIMEOUT_SECONDS = 10.0


class ServerThread:
    """A uvicorn server on a daemon thread; `url` is known once `start()` returns."""

    def __init__(self, app: ASGIApp, *, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                                ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"uvicorn-{host}:{port}", daemon=True)
        self.url = ""

    def start(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the stand-in server did not start; see the uvicorn log above for the cause")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self, timeout_seconds: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout_seconds)


@dataclass
class RunningStripeStandin:
    """A started stand-in: its base URL, its state (for assertions) and how to stop it."""

    url: str
    store: StripeStore
    deliverer: WebhookDeliverer
    _server: ServerThread = field(repr=False)

    def stop(self) -> None:
        self._server.stop()
        logger.info("stripe_standin.stopped", extra={"url": self.url})


def start_stripe_standin(
    webhook_url: str | None,
    webhook_secret: str,
    host: str = LOOPBACK_HOST,
    port: int = 0,
    *,
    api_key: str | None = None,
) -> RunningStripeStandin:
    """Start the stand-in; events go to `webhook_url`, signed with `webhook_secret`.

    `port` 0 picks a free port. `api_key` None accepts any sk_test_ key. Only 127.0.0.1 is
    accepted as `host`, because the control routes take no credentials.
    """
    if host != LOOPBACK_HOST:
        raise ValueError(f"host must be {LOOPBACK_HOST}, got '{host}'; the stand-in's test controls are unauthenticated")
    store = StripeStore()
    deliverer = WebhookDeliverer(store, webhook_url=webhook_url, secret=webhook_secret)
    server = ServerThread(create_standin_app(store, deliverer, api_key=api_key), host=host, port=port)
    url = server.start()
    store.base_url = url
    logger.info("stripe_standin.started", extra={"url": url, "webhook_url": webhook_url})
    return RunningStripeStandin(url=url, store=store, deliverer=deliverer, _server=server)
