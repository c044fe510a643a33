"""Connection pools of the fal gateway in live mode: pool limits, and proxies from the environment.

These tests build the transports and read their settings; nothing is sent, because live mode
would need fal's hosts.
"""

from __future__ import annotations

import httpx
import pytest

from falflow.integrations.fal import client


def live_queue_client(limits: httpx.Limits) -> httpx.AsyncClient:
    transport = client._Routes(sandbox_url=None).queue_transport(limits)
    assert isinstance(transport, client.FailFastTransport)
    inner = transport._inner
    assert isinstance(inner, client._PooledBackupDomainTransport)
    return inner._client


def test_live_queue_pool_limits() -> None:
    pool = live_queue_client(client.QUEUE_LIMITS)._transport._pool  # type: ignore[attr-defined]

    assert pool._max_connections == 100
    assert pool._max_keepalive_connections == 100


def test_live_queue_keeps_env_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")

    mounts = live_queue_client(client.STREAM_LIMITS)._mounts

    assert [pattern.pattern for pattern in mounts] == ["https://"]
