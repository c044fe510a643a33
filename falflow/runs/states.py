"""Run and node statuses, and the only transitions between them.

Every status change goes through `advance_run` / `advance_node_item` so that an impossible
change (say, a cancelled run becoming succeeded) fails loudly instead of being stored.
"""

from __future__ import annotations

import enum


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NodeStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for upstream nodes
    QUEUED = "queued"  # ready; waiting for a concurrency slot
    SUBMITTED = "submitted"  # fal accepted the request; it waits in fal's queue
    RUNNING = "running"  # fal reports the request in progress
    SUCCEEDED = "succeeded"
    REUSED = "reused"  # outputs taken from the cache or an earlier run, at no cost
    FAILED = "failed"
    BLOCKED = "blocked"  # an upstream node failed, so this one never ran
    CANCELLED = "cancelled"


RUN_TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
NODE_TERMINAL = frozenset({NodeStatus.SUCCEEDED, NodeStatus.REUSED, NodeStatus.FAILED, NodeStatus.BLOCKED, NodeStatus.CANCELLED})
NODE_DONE = frozenset({NodeStatus.SUCCEEDED, NodeStatus.REUSED})
NODE_IN_FLIGHT = frozenset({NodeStatus.SUBMITTED, NodeStatus.RUNNING})

_RUN_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLING, RunStatus.CANCELLED, RunStatus.FAILED}),
    RunStatus.RUNNING: frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLING, RunStatus.CANCELLED}),
    RunStatus.CANCELLING: frozenset({RunStatus.CANCELLED}),
}

_NODE_TRANSITIONS: dict[NodeStatus, frozenset[NodeStatus]] = {
    NodeStatus.PENDING: frozenset({NodeStatus.QUEUED, NodeStatus.REUSED, NodeStatus.BLOCKED, NodeStatus.CANCELLED,
                                   NodeStatus.SUCCEEDED, NodeStatus.FAILED}),
    NodeStatus.QUEUED: frozenset({NodeStatus.SUBMITTED, NodeStatus.RUNNING, NodeStatus.SUCCEEDED, NodeStatus.REUSED,
                                  NodeStatus.FAILED, NodeStatus.CANCELLED}),
    NodeStatus.SUBMITTED: frozenset({NodeStatus.RUNNING, NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.CANCELLED,
                                     NodeStatus.QUEUED}),
    # Back to SUBMITTED or QUEUED when a failed request is retried.
    NodeStatus.RUNNING: frozenset({NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.CANCELLED, NodeStatus.QUEUED,
                                   NodeStatus.SUBMITTED}),
}


class InvalidTransitionError(RuntimeError):
    """A status change that the state machine does not allow; a bug, never user input."""


def check_run_transition(current: RunStatus, new: RunStatus) -> None:
    if new not in _RUN_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransitionError(f"run cannot go from {current} to {new}")


def check_node_transition(current: NodeStatus, new: NodeStatus) -> None:
    if current == new:
        return
    if new not in _NODE_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransitionError(f"node cannot go from {current} to {new}")


def summarize_items(statuses: list[NodeStatus]) -> NodeStatus:
    """Return the status of a node from the statuses of its batch items."""
    if not statuses:
        return NodeStatus.PENDING
    present = set(statuses)
    if present <= NODE_DONE:
        return NodeStatus.REUSED if present == {NodeStatus.REUSED} else NodeStatus.SUCCEEDED
    if NodeStatus.FAILED in present and present <= NODE_TERMINAL:
        return NodeStatus.FAILED
    if NodeStatus.CANCELLED in present and present <= NODE_TERMINAL:
        return NodeStatus.CANCELLED
    for status in (NodeStatus.RUNNING, NodeStatus.SUBMITTED, NodeStatus.QUEUED):
        if status in present:
            return status
    return NodeStatus.PENDING
