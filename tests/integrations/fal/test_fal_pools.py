"""Connection pools of the fal gateway: pools split into small shards, limits, and proxies in live mode.

The live-mode tests build the transports and read their settings; nothing is sent, because live
mode would need fal's hosts. The shard tests send real HTTP to a local server.
"""

from __future__ import annotations

import asyncio
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


def test_live_queue_pool_is_split_into_shards() -> None:
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
def test_shard_limits_cover_the_total(limits: httpx.Limits, shards: int, per_shard: int | None,
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
    """Reply to each GET with the client's port, which tells the connections apart."""

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


def test_shards_in_turn(peer_server: str) -> None:
    limits = httpx.Limits(max_connections=3 * SHARD_CONNECTIONS, max_keepalive_connections=3 * SHARD_CONNECTIONS)

    async def ports() -> list[str]:
        transport = ShardedTransport(lambda shard: httpx.AsyncHTTPTransport(limits=shard), limits)
        async with httpx.AsyncClient(transport=transport) as http:
            return [(await http.get(peer_server)).text for _ in range(9)]

    seen = asyncio.run(ports())

    # Three shards, one kept-alive connection each, used in turn.
    assert len(set(seen)) == 3
    assert seen[:3] * 3 == seen
