"""Carries "this run has news" between processes through Redis pub/sub.

With run workers in their own processes, the events they write reach the database, but the
web process holding a browser's websocket or an SSE stream would only see them at its next
poll. When FALFLOW_REDIS_URL is set, every `event_bus.notify` is also published on one Redis
channel, and each process relays what it hears to its local listeners. The database stays the
truth: a lost message only delays a listener until its next poll.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid

import redis

from falflow.runs.events import RunEventBus

logger = logging.getLogger("falflow.runs.relay")

CHANNEL = "falflow:run-news"


class RedisRelay:
    def __init__(self, bus: RunEventBus, redis_url: str) -> None:
        self._bus = bus
        self._client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self._origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="falflow-redis-relay", daemon=True)

    def start(self) -> None:
        self._bus.add_observer(self.publish)
        self._thread.start()
        logger.info("relay.started")

    def publish(self, run_id: uuid.UUID) -> None:
        try:
            self._client.publish(CHANNEL, f"{self._origin} {run_id}")
        except redis.RedisError:
            logger.warning("relay.publish_failed", exc_info=True)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self._client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    origin, _, run_id = message["data"].decode().partition(" ")
                    if origin != self._origin:
                        self._bus.notify_local(uuid.UUID(run_id))
                pubsub.close()
            except (redis.RedisError, ValueError):
                logger.warning("relay.listen_failed", exc_info=True)
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._bus.remove_observer(self.publish)
        self._stop.set()
        self._thread.join(timeout=5)
        self._client.close()
