"""Execution plans: which nodes a run executes and in which order they become ready.

The plan is a pure state machine over node ids. The run engine keeps the sets of
done, running, failed and blocked nodes and calls `ready()` for the nodes to start
next. When a node fails, the engine marks its `descendants()` as blocked. Nothing
here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import WorkflowDocument
from falflow.graph.errors import PlanError
from falflow.graph.topology import (
    Dependencies,
    ancestors,
    descendants,
    find_cycles,
    topological_order,
)


@dataclass(frozen=True)
class ExecutionPlan:
    """The nodes of one run, in topological order, with their in-plan dependencies.

    `reused` contains the nodes outside the plan whose stored outputs feed it (with
    `start_from`, the upstream results of an earlier run). `depth` is 0 for nodes
    whose in-plan sources are all reused or absent, else 1 + the deepest source.
    """

    order: tuple[str, ...]
    sources: Mapping[str, frozenset[str]]
    targets: Mapping[str, frozenset[str]]
    reused: frozenset[str]
    depth: Mapping[str, int]

    @classmethod
    def from_document(
        cls,
        document: WorkflowDocument,
        catalog: NodeCatalog,
        *,
        only_up_to: str | None = None,
        start_from: str | None = None,
    ) -> ExecutionPlan:
        """Plan a run of the whole document or of a part of it.

        `only_up_to` keeps that node and its ancestors; `start_from` keeps that node
        and its descendants, reusing the outputs of everything upstream. Both
        together keep the nodes between them. Raises PlanError for a cycle, an
        unknown node id or a node type missing from the catalog.
        """
        dependencies = Dependencies.of(document)
        cycles = find_cycles(dependencies)
        if cycles:
            raise PlanError(
                "The workflow has a cycle (" + " -> ".join(cycles[0]) + "); remove one "
                "of its connections before running."
            )
        for node in document.node_map().values():
            if catalog.get(node.type) is None:
                raise PlanError(
                    f"Node '{node.id}' has type '{node.type}', which is not in the node "
                    "catalog; validate the workflow before running it."
                )

        members = set(dependencies.order)
        for argument, node_id in (("only_up_to", only_up_to), ("start_from", start_from)):
            if node_id is not None and node_id not in members:
                raise PlanError(f"{argument} names node '{node_id}', which is not in the workflow.")
        if only_up_to is not None:
            members &= ancestors(dependencies, only_up_to) | {only_up_to}
        if start_from is not None:
            members &= descendants(dependencies, start_from) | {start_from}
            if not members:
                raise PlanError(
                    f"Node '{start_from}' is not upstream of '{only_up_to}', so the run "
                    "would be empty; pick nodes on one path."
                )

        ordered, _ = topological_order(dependencies, members)
        sources = {node_id: dependencies.sources[node_id] & members for node_id in ordered}
        targets = {node_id: dependencies.targets[node_id] & members for node_id in ordered}
        reused = {
            source
            for node_id in ordered
            for source in dependencies.sources[node_id]
            if source not in members
        }
        depth: dict[str, int] = {}
        for node_id in ordered:
            depth[node_id] = max((depth[source] + 1 for source in sources[node_id]), default=0)
        return cls(
            order=tuple(ordered),
            sources={key: frozenset(value) for key, value in sources.items()},
            targets={key: frozenset(value) for key, value in targets.items()},
            reused=frozenset(reused),
            depth=depth,
        )

    def ready(
        self,
        done: set[str],
        running: set[str],
        failed: set[str],
        blocked: set[str],
    ) -> list[str]:
        """Return the nodes that can start now, in topological order.

        A node is ready when it is in none of the four sets and every in-plan
        source is done.
        """
        settled = done | running | failed | blocked
        return [
            node_id
            for node_id in self.order
            if node_id not in settled and self.sources[node_id] <= done
        ]

    def descendants(self, node_id: str) -> set[str]:
        """Return the in-plan nodes downstream of `node_id` (to block after a failure)."""
        if node_id not in self.targets:
            raise PlanError(f"Node '{node_id}' is not part of this plan.")
        seen: set[str] = set()
        stack = list(self.targets[node_id])
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.targets[current])
        return seen

    def topological_order(self) -> list[str]:
        return list(self.order)

    def levels(self) -> list[list[str]]:
        """Return the nodes grouped by depth; each level can run in parallel."""
        grouped: list[list[str]] = [[] for _ in range(self.critical_path_length)]
        for node_id in self.order:
            grouped[self.depth[node_id]].append(node_id)
        return grouped

    @property
    def critical_path_length(self) -> int:
        """Return the number of nodes on the longest dependency chain (0 if empty).

        With unlimited parallelism and equal node durations, a run takes this many
        node durations: the ideal wall time that benchmarks compare against.
        """
        return max(self.depth.values(), default=-1) + 1

    def is_finished(self, done: set[str], failed: set[str], blocked: set[str]) -> bool:
        """Return True when every node of the plan is done, failed or blocked."""
        return all(node_id in done or node_id in failed or node_id in blocked for node_id in self.order)
