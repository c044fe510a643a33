"""Load generators: an open loop with a fixed schedule, and a closed loop that finds capacity.

In the open loop, requests leave on schedule whether or not earlier ones returned. Latency is
measured from each request's scheduled send time, so a server that falls behind is charged for
the queueing it causes (no coordinated omission). How late the generator itself sent is reported
too, because on a busy machine the client can be the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bench.stats import percentile


@dataclass
class LoadResult:
    rate_per_second: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    send_lags: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def achieved_rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def latency_ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


async def open_loop(
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    client: httpx.AsyncClient,
    *,
    rate_per_second: float,
    seconds: float,
    expected_status: int,
) -> LoadResult:
    """Send `rate_per_second × seconds` requests made by `send`, evenly spaced, and time each one."""
    result = LoadResult(rate_per_second=rate_per_second)
    total = max(1, round(rate_per_second * seconds))
    interval = 1.0 / rate_per_second

    async def one(scheduled: float) -> None:
        result.send_lags.append(time.perf_counter() - scheduled)
        try:
            response = await send(client)
        except httpx.HTTPError as exc:
            result.errors[type(exc).__name__] += 1
            return
        result.statuses[response.status_code] += 1
        if response.status_code == expected_status:
            result.latencies.append(time.perf_counter() - scheduled)
        else:
            result.errors[f"HTTP {response.status_code}"] += 1

    start = time.perf_counter() + 0.05
    tasks = []
    for index in range(total):
        scheduled = start + index * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    return result


async def closed_loop_capacity(
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    client: httpx.AsyncClient,
    *,
    workers: int,
    seconds: float,
    expected_status: int,
) -> float:
    """Return the requests per second that `workers` back-to-back senders complete with `expected_status`."""
    completed = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal completed
        while time.perf_counter() < deadline:
            try:
                response = await send(client)
            except httpx.HTTPError:
                continue
            if response.status_code == expected_status:
                completed += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return completed / (time.perf_counter() - started)
