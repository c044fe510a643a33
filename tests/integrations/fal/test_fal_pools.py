"""Connection pools of the fal gateway: pools split into small shards, limits, and proxies in live mode.

The live-mode tests build the transports and read their settings. They send nothing, because live
mode would need fal's hosts. The shard tests send real HTTP to a local server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from falflow.integrations.fal import client
from falflow.integrations.fal.transport import SHARD_CONNECTIONS, ShardedTransport


def live_queue_transport(limits: httpx.Limits) -> ShardedTransport:
    transport = client._Routes(sandbox_url=None).queue_transport(limits)
    assert isinstance(transport, client.FailFastTransport)
    inner = transport._inner
    assert isinstance(inner, ShardedTransport)
    return inner


def test_live_queue_pool_shards() -> None:
    sharded = live_queue_transport(client.QUEUE_LIMITS)

    pools = [shard._client._transport._pool for shard in sharded.shards]  # type: ignore[attr-defined]

    assert all(isinstance(shard, client._PooledBackupDomainTransport) for shard in sharded.shards)
    assert len(pools) == 7  # 100 connections in shards of at most 16
    assert {pool._max_connections for pool in pools} == {15}
    assert {pool._max_keepalive_connections for pool in pools} == {15}


def test_live_queue_keeps_env_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")

    sharded = live_queue_transport(client.STREAM_LIMITS)

    for shard in sharded.shards:
        assert [pattern.pattern for pattern in shard._client._mounts] == ["https://"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("limits", "shards", "per_shard", "keepalive"),
    [
        (httpx.Limits(max_connections=100, max_keepalive_connections=20), 7, 15, 3),
        (httpx.Limits(max_connections=1000, max_keepalive_connections=None), 63, 16, None),
        (httpx.Limits(max_connections=10, max_keepalive_connections=10), 1, 10, 10),
        (httpx.Limits(max_connections=None, max_keepalive_connections=5), 1, None, 5),
    ],
)
def test_shard_limits_cover_total(limits: httpx.Limits, shards: int, per_shard: int | None,
                                      keepalive: int | None) -> None:
    built: list[httpx.Limits] = []

    def build(shard_limits: httpx.Limits) -> httpx.AsyncBaseTransport:
        built.append(shard_limits)
        return httpx.AsyncHTTPTransport(limits=shard_limits)

    sharded = ShardedTransport(build, limits)

    assert len(sharded.shards) == len(built) == shards
    assert sharded.shard_limits.max_connections == per_shard
    assert sharded.shard_limits.max_keepalive_connections == keepalive
    if per_shard is not None:
        assert per_shard <= SHARD_CONNECTIONS
        assert per_shard * shards >= (limits.max_connections or 0)


class _Peers(BaseHTTPRequestHandler):
    """Reply to each GET with the client's port, which identifies the connection."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = str(self.client_address[1]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        pass


@pytest.fixture
def peer_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Peers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def sharded(shard_count: int) -> ShardedTransport:
    connections = shard_count * SHARD_CONNECTIONS
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return ShardedTransport(lambda shard: httpx.AsyncHTTPTransport(limits=shard), limits)


def test_idle_shards_reuse_one_connection(peer_server: str) -> None:
    transport = sharded(3)

    async def ports() -> list[str]:
        async with httpx.AsyncClient(transport=transport) as http:
            return [(await http.get(peer_server)).text for _ in range(5)]

    seen = asyncio.run(ports())

    # Each response closes before the next request, so the first pool and its one connection serve all.
    assert len(set(seen)) == 1
    assert transport.open_responses == [0, 0, 0]


def test_open_responses_spread_over_shards(peer_server: str) -> None:
    transport = sharded(3)

    async def hold_three() -> tuple[list[int], set[str]]:
        async with httpx.AsyncClient(transport=transport) as http, contextlib.AsyncExitStack() as stack:
            responses = [await stack.enter_async_context(http.stream("GET", peer_server)) for _ in range(3)]
            while_open = list(transport.open_responses)
            ports = {(await response.aread()).decode() for response in responses}
        return while_open, ports

    while_open, ports = asyncio.run(hold_three())

    assert while_open == [1, 1, 1]
    assert len(ports) == 3
    assert transport.open_responses == [0, 0, 0]


def test_failed_request_frees_its_shard() -> None:
    transport = sharded(2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    async def connect_to_closed_port() -> None:
        async with httpx.AsyncClient(transport=transport) as http:
            await http.get(f"http://127.0.0.1:{closed_port}/")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(connect_to_closed_port())

    assert transport.open_responses == [0, 0]


class _SyncBody(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"ok"


class _SyncBodyTransport(httpx.AsyncBaseTransport):
    """A pool stand-in that responds with a synchronous body. No network is involved."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_SyncBody())


def test_sync_body_counts_as_closed() -> None:
    transport = ShardedTransport(lambda _limits: _SyncBodyTransport(), httpx.Limits(max_connections=32))

    response = asyncio.run(transport.handle_async_request(httpx.Request("GET", "http://127.0.0.1/")))

    assert isinstance(response.stream, _SyncBody)
    assert transport.open_responses == [0, 0]
