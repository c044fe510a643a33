"""Graph structure: dependencies, topological order and cycles over node ids.

Every function is deterministic: ties are broken by the nodes' document order, so
the same document always gives the same order and the same cycle paths.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from falflow.graph.document import WorkflowDocument


@dataclass(frozen=True)
class Dependencies:
    """Node ids in document order, with each node's sources and targets.

    Edges that touch a missing node are ignored (validation reports them), and
    parallel edges between the same two nodes count once.
    """

    order: tuple[str, ...]
    sources: Mapping[str, frozenset[str]]
    targets: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, document: WorkflowDocument) -> Dependencies:
        order = tuple(document.node_map())
        known = set(order)
        sources: dict[str, set[str]] = {node_id: set() for node_id in order}
        targets: dict[str, set[str]] = {node_id: set() for node_id in order}
        for edge in document.edges:
            if edge.source in known and edge.target in known:
                sources[edge.target].add(edge.source)
                targets[edge.source].add(edge.target)
        return cls(
            order=order,
            sources={key: frozenset(value) for key, value in sources.items()},
            targets={key: frozenset(value) for key, value in targets.items()},
        )

    def index(self) -> dict[str, int]:
        return {node_id: position for position, node_id in enumerate(self.order)}


def topological_order(
    dependencies: Dependencies, subset: Iterable[str] | None = None
) -> tuple[list[str], list[str]]:
    """Sort nodes so that every node follows its sources (Kahn's algorithm).

    Returns `(ordered, cyclic)`: `cyclic` contains the nodes that could not be ordered
    because they are on or downstream of a cycle, in document order. With `subset`,
    only those nodes and the edges among them are considered.
    """
    members = set(dependencies.order if subset is None else subset)
    index = dependencies.index()
    pending = {
        node_id: len(dependencies.sources[node_id] & members) for node_id in members
    }
    heap = [index[node_id] for node_id, count in pending.items() if count == 0]
    heapq.heapify(heap)
    ordered: list[str] = []
    while heap:
        node_id = dependencies.order[heapq.heappop(heap)]
        ordered.append(node_id)
        for target in dependencies.targets[node_id]:
            if target in members:
                pending[target] -= 1
                if pending[target] == 0:
                    heapq.heappush(heap, index[target])
    placed = set(ordered)
    cyclic = sorted((node_id for node_id in members if node_id not in placed), key=index.__getitem__)
    return ordered, cyclic


def find_cycles(dependencies: Dependencies) -> list[list[str]]:
    """Return one cycle per strongly connected component that contains a cycle.

    Each path starts at the component's first node in document order, follows
    edges, and repeats the start at the end: `["a", "b", "c", "a"]`.
    """
    index = dependencies.index()
    cycles: list[list[str]] = []
    for component in _strongly_connected_components(dependencies):
        start = min(component, key=index.__getitem__)
        if len(component) == 1 and start not in dependencies.targets[start]:
            continue
        cycles.append(_cycle_through(start, component, dependencies, index))
    cycles.sort(key=lambda path: index[path[0]])
    return cycles


def _cycle_through(
    start: str, component: set[str], dependencies: Dependencies, index: dict[str, int]
) -> list[str]:
    # Breadth-first search from `start` back to itself inside the component gives
    # the shortest cycle through `start`.
    previous: dict[str, str] = {}
    queue: deque[str] = deque([start])
    while queue:
        node_id = queue.popleft()
        for target in sorted(dependencies.targets[node_id], key=index.__getitem__):
            if target not in component:
                continue
            if target == start:
                path = [node_id]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                path.reverse()
                return [*path, start]
            if target not in previous:
                previous[target] = node_id
                queue.append(target)
    raise AssertionError(f"Component of {start!r} has no cycle through it.")


def _strongly_connected_components(dependencies: Dependencies) -> list[set[str]]:
    # Iterative Tarjan, so deep chains cannot hit Python's recursion limit.
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    position = dependencies.index()

    for root in dependencies.order:
        if root in index_of:
            continue
        work: list[tuple[str, list[str]]] = []
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, sorted(dependencies.targets[root], key=position.__getitem__)))
        while work:
            node_id, successors = work[-1]
            if successors:
                target = successors.pop(0)
                if target not in index_of:
                    index_of[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append(
                        (target, sorted(dependencies.targets[target], key=position.__getitem__))
                    )
                elif target in on_stack:
                    low[node_id] = min(low[node_id], index_of[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node_id])
            if low[node_id] == index_of[node_id]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node_id:
                        break
                components.append(component)
    return components


def ancestors(dependencies: Dependencies, node_id: str) -> set[str]:
    """Return every node that `node_id` depends on, directly or not."""
    return _reach(node_id, dependencies.sources)


def descendants(dependencies: Dependencies, node_id: str) -> set[str]:
    """Return every node that depends on `node_id`, directly or not."""
    return _reach(node_id, dependencies.targets)


def _reach(start: str, links: Mapping[str, frozenset[str]]) -> set[str]:
    seen: set[str] = set()
    queue: deque[str] = deque(links[start])
    while queue:
        node_id = queue.popleft()
        if node_id not in seen:
            seen.add(node_id)
            queue.extend(links[node_id])
    seen.discard(start)
    return seen
