from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import Edge, Node, WorkflowDocument
from falflow.graph.errors import PlanError
from falflow.graph.scheduler import ExecutionPlan

from .builders import document, edge, node


def diamond() -> WorkflowDocument:
    """p -> a, p -> b, (a, b) -> c via a template, c -> o."""
    return document(
        [
            node("p", "util/text", text="x"),
            node("a", "util/template", template="{x}"),
            node("b", "util/template", template="{x}"),
            node("c", "util/template", template="{l} {r}"),
            node("o", "util/output"),
            node("lonely", "util/text", text="y"),
        ],
        [
            edge("p", "a", into="x"),
            edge("p", "b", into="x"),
            edge("a", "c", into="l"),
            edge("b", "c", into="r"),
            edge("c", "o", into="value"),
        ],
    )


def test_ready_progression(catalog: NodeCatalog) -> None:
    plan = ExecutionPlan.from_document(diamond(), catalog)
    done: set[str] = set()
    running: set[str] = set()

    assert plan.ready(done, running, set(), set()) == ["p", "lonely"]
    running = {"p", "lonely"}
    assert plan.ready(done, running, set(), set()) == []
    done, running = {"p"}, {"lonely"}
    assert plan.ready(done, running, set(), set()) == ["a", "b"]
    done, running = {"p", "lonely", "a"}, {"b"}
    assert plan.ready(done, running, set(), set()) == []
    done = {"p", "lonely", "a", "b"}
    assert plan.ready(done, set(), set(), set()) == ["c"]
    done.add("c")
    assert plan.ready(done, set(), set(), set()) == ["o"]
    done.add("o")
    assert plan.ready(done, set(), set(), set()) == []
    assert plan.is_finished(done, set(), set())


def test_failure_blocks_descendants(catalog: NodeCatalog) -> None:
    plan = ExecutionPlan.from_document(diamond(), catalog)

    blocked = plan.descendants("a")
    done = {"p", "lonely", "b"}

    assert blocked == {"c", "o"}
    assert plan.ready(done, set(), {"a"}, blocked) == []
    assert plan.is_finished(done, {"a"}, blocked)
    assert plan.descendants("o") == set()


def test_order_depth_and_levels(catalog: NodeCatalog) -> None:
    plan = ExecutionPlan.from_document(diamond(), catalog)

    # Ties go to the node that comes first in the document.
    assert plan.topological_order() == ["p", "a", "b", "c", "o", "lonely"]
    assert dict(plan.depth) == {"p": 0, "lonely": 0, "a": 1, "b": 1, "c": 2, "o": 3}
    assert plan.levels() == [["p", "lonely"], ["a", "b"], ["c"], ["o"]]
    assert plan.critical_path_length == 4
    assert plan.reused == frozenset()


def test_run_up_to_node(catalog: NodeCatalog) -> None:
    plan = ExecutionPlan.from_document(diamond(), catalog, only_up_to="a")

    assert plan.topological_order() == ["p", "a"]
    assert plan.reused == frozenset()
    assert plan.ready(set(), set(), set(), set()) == ["p"]


def test_start_from_node_reuses_upstream(catalog: NodeCatalog) -> None:
    plan = ExecutionPlan.from_document(diamond(), catalog, start_from="a")

    assert plan.topological_order() == ["a", "c", "o"]
    assert plan.reused == frozenset({"p", "b"})
    assert plan.ready(set(), set(), set(), set()) == ["a"]
    assert plan.ready({"a"}, set(), set(), set()) == ["c"]
    assert dict(plan.depth) == {"a": 0, "c": 1, "o": 2}


def test_start_from_and_up_to(catalog: NodeCatalog) -> None:
    plan = ExecutionPlan.from_document(diamond(), catalog, start_from="a", only_up_to="c")

    assert plan.topological_order() == ["a", "c"]
    assert plan.reused == frozenset({"p", "b"})


def test_disjoint_subset_is_rejected(catalog: NodeCatalog) -> None:
    with pytest.raises(PlanError, match="Node 'a' is not upstream of 'b'"):
        ExecutionPlan.from_document(diamond(), catalog, start_from="a", only_up_to="b")


def test_unknown_plan_node(catalog: NodeCatalog) -> None:
    with pytest.raises(PlanError, match="only_up_to names node 'zz', which is not in the workflow"):
        ExecutionPlan.from_document(diamond(), catalog, only_up_to="zz")


def test_cycle_is_rejected(catalog: NodeCatalog) -> None:
    cyclic = document(
        [node("a", "util/template", template="{x}"), node("b", "util/template", template="{x}")],
        [edge("a", "b", into="x"), edge("b", "a", into="x")],
    )

    with pytest.raises(PlanError, match=r"The workflow has a cycle \(a -> b -> a\)"):
        ExecutionPlan.from_document(cyclic, catalog)


def test_unknown_type_is_rejected(catalog: NodeCatalog) -> None:
    with pytest.raises(PlanError, match="type 'fal-ai/gone', which is not in the node catalog"):
        ExecutionPlan.from_document(document([node("g", "fal-ai/gone")]), catalog)


@st.composite
def random_dags(draw: st.DrawFn) -> WorkflowDocument:
    """Random DAGs: edges only go from a lower to a higher index, in shuffled node order."""
    size = draw(st.integers(min_value=1, max_value=12))
    pairs = [(low, high) for low in range(size) for high in range(low + 1, size)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True) if pairs else st.just([]))
    order = draw(st.permutations(list(range(size))))
    nodes = [
        Node(id=f"n{index}", type="util/template", params={"template": "{x}"}) for index in order
    ]
    edges = [
        Edge(source=f"n{low}", source_port="text", target=f"n{high}", target_port="x")
        for low, high in chosen
    ]
    return WorkflowDocument(nodes=nodes, edges=edges)


@settings(max_examples=150, deadline=None, database=None)
@given(workflow=random_dags(), failing=st.data())
def test_plan_invariants(workflow: WorkflowDocument, failing: st.DataObject, catalog: NodeCatalog) -> None:
    plan = ExecutionPlan.from_document(workflow, catalog)
    order = plan.topological_order()
    position = {node_id: index for index, node_id in enumerate(order)}

    assert sorted(order) == sorted(node.id for node in workflow.nodes)
    for item in workflow.edges:
        assert position[item.source] < position[item.target]
        assert plan.depth[item.target] > plan.depth[item.source]

    # Drive the state machine; one random node fails and blocks its descendants.
    victim = failing.draw(st.sampled_from(order))
    done: set[str] = set()
    failed: set[str] = set()
    blocked: set[str] = set()
    steps = 0
    while not plan.is_finished(done, failed, blocked):
        ready = plan.ready(done, set(), failed, blocked)
        assert ready, "a plan that is not finished must have a ready node"
        for node_id in ready:
            assert plan.sources[node_id] <= done
            if node_id == victim:
                failed.add(node_id)
                blocked |= plan.descendants(node_id)
            elif node_id not in blocked:
                done.add(node_id)
        steps += 1
        assert steps <= len(order)

    assert failed == {victim}
    assert blocked == plan.descendants(victim)
    assert done == set(order) - failed - blocked
