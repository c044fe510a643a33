"""The simulated queue: each submitted request waits, runs with progress logs, and completes.

A request sleeps ``queue_seconds``, then waits for one of ``max_concurrency`` runner slots in submit order,
runs for ``run_seconds`` while appending 'step i/N' log lines, and completes with its generated output or
an error. Durations are multiplied by the ``time_scale`` in force at submit time. All state lives in the
event loop of the stand-in's server.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from falflow.sandbox.fal.catalog import EndpointSchema
from falflow.sandbox.fal.config import FalStandinConfig
from falflow.sandbox.fal.faults import draws_failure
from falflow.sandbox.fal.generators import GenerationContext, GenerationError, choose_seed, generate_output
from falflow.sandbox.fal.protocol import app_path
from falflow.sandbox.fal.records import (
    Outcome,
    QueueState,
    RequestRecord,
    cancelled_outcome,
    ok_outcome,
    server_error_outcome,
    validation_outcome,
)
from falflow.sandbox.fal.store import FileStore
from falflow.sandbox.fal.validation import validate_arguments, with_defaults

logger = logging.getLogger(__name__)

# Completed requests beyond this count are forgotten, oldest first, so a long-running stand-in stays small.
MAX_RECORDS = 10_000


class QueueSimulator:
    """Runner of submitted requests, each an asyncio task in the server's event loop."""

    def __init__(self, store: FileStore, config: Callable[[], FalStandinConfig]) -> None:
        self._store = store
        self._config = config
        self._records: dict[str, RequestRecord] = {}
        self._fingerprints: Counter[str] = Counter()
        self._sequence = itertools.count(1)
        self._running = 0
        self._slot_released = asyncio.Condition()

    def submit(self, schema: EndpointSchema, arguments: dict[str, Any], *, base_url: str) -> RequestRecord:
        """Record a request and start its simulation; must run inside the server's event loop."""
        config = self._config()
        endpoint_id = schema.endpoint_id
        fingerprint = _fingerprint(endpoint_id, arguments)
        self._fingerprints[fingerprint] += 1
        record = RequestRecord(
            request_id=str(uuid.uuid4()),
            endpoint_id=endpoint_id,
            app_path=app_path(endpoint_id),
            arguments=arguments,
            fingerprint=fingerprint,
            submit_index=self._fingerprints[fingerprint],
            sequence=next(self._sequence),
            base_url=base_url,
            timing=config.timing_for(endpoint_id),
            faults=config.faults_for(endpoint_id),
            time_scale=config.time_scale,
            validation_detail=validate_arguments(schema, arguments),
        )
        self._records[record.request_id] = record
        self._forget_oldest_completed()
        record.task = asyncio.get_running_loop().create_task(
            self._run(record, schema, config.fault_seed), name=f"fal-standin-{record.request_id}"
        )
        logger.info(
            "fal_standin.request.submitted",
            extra={"endpoint_id": endpoint_id, "request_id": record.request_id, "submit_index": record.submit_index},
        )
        return record

    def get(self, request_id: str) -> RequestRecord | None:
        return self._records.get(request_id)

    def records(self) -> list[RequestRecord]:
        return sorted(self._records.values(), key=lambda record: record.sequence)

    def submit_count(self, fingerprint: str) -> int:
        return self._fingerprints[fingerprint]

    def queue_position(self, record: RequestRecord) -> int:
        """Return how many queued requests were submitted before this one (0 means next)."""
        return sum(
            1
            for other in self._records.values()
            if other.state is QueueState.IN_QUEUE and other.sequence < record.sequence
        )

    def cancel(self, record: RequestRecord) -> bool:
        """Stop a queued or running request, which then ends COMPLETED; return False if it already completed."""
        if record.is_completed:
            return False
        if record.task is not None:
            record.task.cancel()
        return True

    async def wake_waiters(self) -> None:
        """Let queued requests recheck the slot limit, e.g. after ``max_concurrency`` changed."""
        async with self._slot_released:
            self._slot_released.notify_all()

    async def reset(self) -> None:
        """Stop every request and forget all of them."""
        await self.shutdown()
        self._records.clear()
        self._fingerprints.clear()
        self._sequence = itertools.count(1)

    async def shutdown(self) -> None:
        tasks = [record.task for record in self._records.values() if record.task is not None and not record.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _wake_queued(self) -> None:
        """Wake the status streams of queued requests, whose positions move when one leaves the queue."""
        for other in self._records.values():
            if other.state is QueueState.IN_QUEUE and other.watchers:
                other.wake_watchers()

    def _forget_oldest_completed(self) -> None:
        excess = len(self._records) - MAX_RECORDS
        if excess <= 0:
            return
        completed = [record for record in self.records() if record.is_completed][:excess]
        for record in completed:
            del self._records[record.request_id]

    async def _run(self, record: RequestRecord, schema: EndpointSchema, fault_seed: int) -> None:
        try:
            await self._sleep(record, record.timing.queue_seconds)
            await self._acquire_slot()
            try:
                record.mark_started()
                self._wake_queued()
                record.add_log(f"Starting {record.endpoint_id} in the falflow sandbox; no model runs here")
                record.complete(await self._execute(record, schema, fault_seed))
            finally:
                await self._release_slot()
        except asyncio.CancelledError:
            if not record.is_completed:
                was_queued = record.state is QueueState.IN_QUEUE
                record.complete(cancelled_outcome())
                if was_queued:
                    self._wake_queued()
                logger.info(
                    "fal_standin.request.cancelled",
                    extra={"endpoint_id": record.endpoint_id, "request_id": record.request_id},
                )
            raise
        outcome = record.outcome
        logger.info(
            "fal_standin.request.completed",
            extra={
                "endpoint_id": record.endpoint_id,
                "request_id": record.request_id,
                "outcome": outcome.kind.value if outcome else None,
            },
        )

    async def _execute(self, record: RequestRecord, schema: EndpointSchema, fault_seed: int) -> Outcome:
        if record.validation_detail:
            return validation_outcome(record.validation_detail)
        faults = record.faults
        if faults.validation_error is not None:
            fault = faults.validation_error
            return validation_outcome([{"loc": ["body", fault.param], "msg": fault.message, "type": fault.type}])
        if faults.hang:
            record.add_log("Sandbox fault injection: this request never completes", "WARN")
            await asyncio.Event().wait()
        await self._simulate_steps(record)
        if draws_failure(faults, fault_seed, record.fingerprint, record.submit_index):
            return server_error_outcome("The model failed (sandbox fault injection).")
        arguments = with_defaults(schema, record.arguments)
        context = GenerationContext(
            endpoint_id=record.endpoint_id,
            arguments=arguments,
            seed=choose_seed(record.endpoint_id, arguments),
            base_url=record.base_url,
            store=self._store,
            run_seconds=round(record.timing.run_seconds * record.time_scale, 3),
        )
        try:
            output = await asyncio.to_thread(generate_output, context)
        except GenerationError as exc:
            return validation_outcome(exc.detail, exc.status_code)
        except Exception as exc:  # A generator bug must end the request with a 500, as a crashed runner would.
            logger.exception(
                "fal_standin.generation.failed",
                extra={"endpoint_id": record.endpoint_id, "request_id": record.request_id},
            )
            return server_error_outcome(f"The sandbox failed to generate the output: {type(exc).__name__}: {exc}")
        return ok_outcome(output)

    async def _simulate_steps(self, record: RequestRecord) -> None:
        steps = record.timing.log_count
        if steps == 0:
            await self._sleep(record, record.timing.run_seconds)
            return
        for step in range(1, steps + 1):
            await self._sleep(record, record.timing.run_seconds / steps)
            record.add_log(f"step {step}/{steps}")

    async def _sleep(self, record: RequestRecord, seconds: float) -> None:
        scaled = seconds * record.time_scale
        if scaled > 0:
            await asyncio.sleep(scaled)

    async def _acquire_slot(self) -> None:
        # Condition waiters wake in FIFO order, so queued requests start in submit order.
        async with self._slot_released:
            await self._slot_released.wait_for(lambda: self._running < self._config().max_concurrency)
            self._running += 1

    async def _release_slot(self) -> None:
        async with self._slot_released:
            self._running -= 1
            self._slot_released.notify_all()


def _fingerprint(endpoint_id: str, arguments: dict[str, Any]) -> str:
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{endpoint_id}\n{canonical}".encode()).hexdigest()
