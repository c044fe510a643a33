"""Run the stand-in with uvicorn, in a background thread or as the main program."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from falflow.sandbox.fal.app import create_fal_standin
from falflow.sandbox.fal.config import FalStandinConfig

logger = logging.getLogger(__name__)


@dataclass
class RunningStandin:
    """A stand-in served from a background thread; ``url`` is its origin, e.g. ``http://127.0.0.1:40123``."""

    url: str
    app: FastAPI
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait up to ``timeout`` seconds for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
        logger.info("fal_standin.stopped", extra={"url": self.url})

    def __enter__(self) -> RunningStandin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket; port 0 picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then, and without it
    # every response on a kept-alive connection waits for the peer's delayed ACK (40 ms on Linux).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def origin_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


# Seconds that shutdown waits for open responses; open status streams and slow-result faults would
# otherwise hold shutdown until they end.
_GRACEFUL_SHUTDOWN_SECONDS = 1


def build_server(app: FastAPI) -> uvicorn.Server:
    # log_config=None keeps uvicorn from replacing the host program's logging setup.
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(config)


def start_fal_standin(
    config: FalStandinConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    startup_timeout: float = 10.0,
) -> RunningStandin:
    """Serve a new stand-in from a daemon thread and return once it accepts connections."""
    app = create_fal_standin(config)
    sock = bind_socket(host, port)
    url = origin_of(sock)
    server = build_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fal-standin", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the fal stand-in did not start on {url} within {startup_timeout:g} s")
        time.sleep(0.01)
    logger.info("fal_standin.started", extra={"url": url})
    return RunningStandin(url=url, app=app, _server=server, _thread=thread)
