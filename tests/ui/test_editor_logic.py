"""The editor's server-side rules without a browser: canvas changes, checks and run summaries."""

from __future__ import annotations

from typing import Any

import pytest

from falflow.graph.document import Edge, Node, Position, WorkflowDocument
from falflow.graph.templates import get_template
from falflow.kit.errors import InvalidInputError
from falflow.ui.editor.changes import apply_change, edge_key, parse_change
from falflow.ui.editor.checks import check_document
from falflow.ui.editor.run_summary import MAX_LOG_LINES, RunSummary, apply_events, seed_from_detail
from falflow.ui.editor.state import route_workflow_id
from falflow.workflows.endpoints import get_catalog

CATALOG = get_catalog()


def _flux_upscale() -> WorkflowDocument:
    template = get_template("flux-upscale")
    assert template is not None
    return template.new_document()


def _apply(document: WorkflowDocument, raw: dict[str, Any]) -> WorkflowDocument:
    return apply_change(document, parse_change(raw), CATALOG).document


def _text_and_upscaler() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            Node(id="text-1", type="util/text", params={"text": "hello"}),
            Node(id="up-1", type="fal-ai/clarity-upscaler", position=Position(x=400, y=0)),
            Node(id="flux-1", type="fal-ai/flux/schnell", position=Position(x=200, y=0)),
        ]
    )


def test_move_sets_positions() -> None:
    document = _apply(_flux_upscale(), {"kind": "move", "nodes": [{"id": "image", "x": 12.5, "y": -40}]})
    node = document.node_map()["image"]
    assert (node.position.x, node.position.y) == (12.5, -40)


def test_move_leaves_input_document_unchanged() -> None:
    original = _flux_upscale()
    before = original.model_dump()
    _apply(original, {"kind": "move", "nodes": [{"id": "image", "x": 1, "y": 2}]})
    assert original.model_dump() == before


def test_connect_rejects_incompatible_types() -> None:
    document = _text_and_upscaler()
    change = {"kind": "connect", "source": "text-1", "source_port": "text", "target": "up-1", "target_port": "image_url"}
    with pytest.raises(InvalidInputError) as caught:
        _apply(document, change)
    assert "text output cannot feed a image input" in caught.value.detail
    assert caught.value.errors[0]["field"] == "target_port"


def test_connect_rejects_unknown_port() -> None:
    change = {"kind": "connect", "source": "text-1", "source_port": "nope", "target": "flux-1", "target_port": "prompt"}
    with pytest.raises(InvalidInputError) as caught:
        _apply(_text_and_upscaler(), change)
    assert "has no output 'nope'" in caught.value.detail


def test_connect_replaces_edge_into_single_input() -> None:
    document = _apply(_text_and_upscaler(), {"kind": "connect", "source": "text-1", "source_port": "text",
                                             "target": "flux-1", "target_port": "prompt"})
    document.nodes.append(Node(id="text-2", type="util/text", params={"text": "other"}))
    document = _apply(document, {"kind": "connect", "source": "text-2", "source_port": "text",
                                 "target": "flux-1", "target_port": "prompt"})
    into_prompt = [edge for edge in document.edges if edge.target == "flux-1" and edge.target_port == "prompt"]
    assert [edge.source for edge in into_prompt] == ["text-2"]


def test_connect_list_input_keeps_every_edge() -> None:
    document = WorkflowDocument(nodes=[
        Node(id="a", type="util/image-input"), Node(id="b", type="util/image-input"),
        Node(id="edit", type="fal-ai/nano-banana/edit"),
    ])
    for source in ("a", "b"):
        document = _apply(document, {"kind": "connect", "source": source, "source_port": "image",
                                     "target": "edit", "target_port": "image_urls"})
    assert sorted(edge.source for edge in document.edges) == ["a", "b"]


def test_connect_same_wire_twice_adds_one_edge() -> None:
    change = {"kind": "connect", "source": "text-1", "source_port": "text", "target": "flux-1", "target_port": "prompt"}
    document = _apply(_apply(_text_and_upscaler(), change), change)
    assert len(document.edges) == 1


def test_connect_stores_canvas_edge_id() -> None:
    change = {"kind": "connect", "id": "text-1:text->flux-1:prompt", "source": "text-1", "source_port": "text",
              "target": "flux-1", "target_port": "prompt"}
    document = _apply(_text_and_upscaler(), change)
    assert edge_key(document.edges[0]) == "text-1:text->flux-1:prompt"


def test_remove_node_drops_its_edges() -> None:
    document = _apply(_flux_upscale(), {"kind": "remove", "nodes": ["image"], "edges": []})
    assert "image" not in document.node_map()
    assert all("image" not in (edge.source, edge.target) for edge in document.edges)
    assert len(document.edges) == 1


def test_remove_edge_by_synthetic_key() -> None:
    document = WorkflowDocument(
        nodes=[Node(id="t", type="util/text"), Node(id="f", type="fal-ai/flux/schnell")],
        edges=[Edge(source="t", source_port="text", target="f", target_port="prompt")],
    )
    document = _apply(document, {"kind": "remove", "edges": ["t:text->f:prompt"]})
    assert document.edges == []


def test_add_rejects_taken_id() -> None:
    change = {"kind": "add", "nodes": [{"id": "image", "type": "util/text"}]}
    with pytest.raises(InvalidInputError) as caught:
        _apply(_flux_upscale(), change)
    assert "already exists" in caught.value.detail


def test_add_rejects_unknown_type() -> None:
    change = {"kind": "add", "nodes": [{"id": "x-1", "type": "fal-ai/not-a-model"}]}
    with pytest.raises(InvalidInputError) as caught:
        _apply(_flux_upscale(), change)
    assert "not a node type of the catalog" in caught.value.detail


def test_add_pasted_nodes_with_edge() -> None:
    change = {
        "kind": "add",
        "nodes": [{"id": "t-9", "type": "util/text", "params": {"text": "hi"}},
                  {"id": "f-9", "type": "fal-ai/flux/schnell", "position": {"x": 300, "y": 0}}],
        "edges": [{"id": "t-9:text->f-9:prompt", "source": "t-9", "source_port": "text", "target": "f-9", "target_port": "prompt"}],
    }
    document = _apply(_flux_upscale(), change)
    assert {"t-9", "f-9"} <= set(document.node_map())
    assert any(edge.target == "f-9" for edge in document.edges)


def test_params_set_and_remove() -> None:
    document = _apply(_flux_upscale(), {"kind": "params", "node_id": "image", "params": {"num_images": 3, "image_size": None}})
    params = document.node_map()["image"].params
    assert params["num_images"] == 3
    assert "image_size" not in params


def test_params_reject_unknown_name() -> None:
    with pytest.raises(InvalidInputError) as caught:
        _apply(_flux_upscale(), {"kind": "params", "node_id": "image", "params": {"colour": "red"}})
    assert "has no param 'colour'" in caught.value.detail


def test_params_accept_new_template_placeholder() -> None:
    document = WorkflowDocument(nodes=[Node(id="tpl", type="util/template")])
    document = _apply(document, {"kind": "params", "node_id": "tpl", "params": {"template": "a {animal}", "animal": "fox"}})
    assert document.node_map()["tpl"].params["animal"] == "fox"


def test_label_blank_clears() -> None:
    document = _apply(_flux_upscale(), {"kind": "label", "node_id": "prompt", "label": "  "})
    assert document.node_map()["prompt"].label is None


def test_replace_parses_document() -> None:
    raw = {"schema_version": 1, "nodes": [{"id": "t", "type": "util/text"}], "edges": []}
    applied = apply_change(_flux_upscale(), parse_change({"kind": "replace", "document": raw, "reason": "undo"}), CATALOG)
    assert [node.id for node in applied.document.nodes] == ["t"]
    assert applied.note == "undo"


def test_parse_change_rejects_unknown_kind() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_change({"kind": "explode"})
    assert "invalid change" in caught.value.detail


def test_parse_change_rejects_bad_node_id() -> None:
    with pytest.raises(InvalidInputError):
        parse_change({"kind": "move", "nodes": [{"id": "bad id", "x": 0, "y": 0}]})


def test_checks_group_problems_by_node() -> None:
    document = WorkflowDocument(nodes=[Node(id="flux", type="fal-ai/flux/schnell")])
    checks = check_document(document, CATALOG, margin_bps=0)
    assert checks.problems, "a flux node without a prompt must have a problem"
    assert checks.problems[0]["node_title"] == "FLUX.1 [schnell]"
    node_problems = checks.node_checks["flux"]["problems"]
    assert any(problem["port"] == "prompt" or problem["param"] == "prompt" for problem in node_problems)


def test_checks_estimate_template() -> None:
    checks = check_document(_flux_upscale(), CATALOG, margin_bps=0)
    assert checks.problems == []
    assert checks.total_credits > 0
    assert checks.total_credits == sum(entry["credits"] for entry in checks.node_checks.values())


def test_checks_list_dynamic_ports() -> None:
    document = WorkflowDocument(nodes=[Node(id="tpl", type="util/template", params={"template": "{a} and {b}"})])
    checks = check_document(document, CATALOG, margin_bps=0)
    assert [port["name"] for port in checks.node_checks["tpl"]["inputs"]] == ["a", "b"]


def _event(seq: int, kind: str, data: dict[str, Any], node_id: str | None = None, item: int | None = None) -> dict[str, Any]:
    return {"seq": seq, "type": kind, "node_id": node_id, "item_index": item, "data": data}


_RUN_EVENTS = [
    _event(1, "run.status", {"status": "queued", "estimated_credits": 93, "node_ids": ["prompt", "image"]}),
    _event(2, "run.status", {"status": "running"}),
    _event(3, "node.status", {"status": "succeeded", "outputs": {"text": "a web"}}, "prompt"),
    _event(4, "node.status", {"status": "queued", "batch_count": 2}, "image"),
    _event(5, "item.status", {"status": "submitted"}, "image", 0),
    _event(6, "item.queue", {"queue_position": 3}, "image", 0),
    _event(7, "item.status", {"status": "running"}, "image", 0),
    _event(8, "item.progress", {"progress": 0.5}, "image", 0),
    *[_event(9 + i, "item.log", {"message": f"step {i}/8"}, "image", 0) for i in range(8)],
    _event(17, "item.status", {"status": "succeeded", "outputs": {"images": [
        {"url": "http://x/1.png", "asset_id": "asset-1", "content_type": "image/png"}], "prompt": "a web"}}, "image", 0),
    _event(18, "item.status", {"status": "succeeded", "outputs": {"images": [
        {"url": "http://x/2.png", "asset_id": "asset-2", "content_type": "image/png"}]}}, "image", 1),
    _event(19, "node.status", {"status": "succeeded", "cost_credits": 6}, "image"),
    _event(20, "run.status", {"status": "succeeded", "charged_credits": 6}),
]
_TYPES = {"prompt": "util/text", "image": "fal-ai/flux/schnell"}


def test_summary_folds_run_events() -> None:
    summary = RunSummary(run_id="r")
    apply_events(summary, _RUN_EVENTS, _TYPES)
    image = summary.nodes["image"]
    assert summary.status == "succeeded"
    assert summary.charged_credits == 6
    assert summary.last_seq == 20
    assert image["status"] == "succeeded"
    assert image["items_done"] == 2
    assert image["batch_count"] == 2
    assert image["progress"] == 1.0
    assert image["queue_position"] is None
    assert [preview["asset_id"] for preview in image["previews"]] == ["asset-1", "asset-2"]
    assert image["previews"][0]["kind"] == "image"
    assert image["texts"] == []


def test_summary_keeps_last_log_lines() -> None:
    summary = RunSummary(run_id="r")
    apply_events(summary, _RUN_EVENTS[:16], _TYPES)
    logs = summary.nodes["image"]["logs"]
    assert len(logs) == MAX_LOG_LINES
    assert logs[0] == "step 3/8"
    assert logs[-1] == "step 7/8"


def test_summary_shows_queue_position_while_queued() -> None:
    summary = RunSummary(run_id="r")
    apply_events(summary, _RUN_EVENTS[:6], _TYPES)
    assert summary.nodes["image"]["queue_position"] == 3
    assert summary.nodes["image"]["status"] == "submitted"


def test_summary_replay_in_pages_matches_whole() -> None:
    whole = RunSummary(run_id="r")
    apply_events(whole, _RUN_EVENTS, _TYPES)
    paged = RunSummary(run_id="r")
    for start in range(0, len(_RUN_EVENTS), 4):
        apply_events(paged, _RUN_EVENTS[: start + 4], _TYPES)  # overlapping pages are skipped by seq
    assert paged.nodes == whole.nodes
    assert paged.status == whole.status


def test_summary_text_output_of_llm_node() -> None:
    summary = RunSummary(run_id="r")
    events = [_event(1, "item.status", {"status": "succeeded", "outputs": {"output": "A fox in snow."}}, "llm", 0)]
    apply_events(summary, events, {"llm": "openrouter/router"})
    assert summary.nodes["llm"]["texts"] == ["A fox in snow."]


def test_summary_marks_blocked_node() -> None:
    summary = RunSummary(run_id="r")
    apply_events(summary, [_event(1, "node.status", {"status": "blocked", "because_of": "image"}, "upscale")], {})
    assert summary.nodes["upscale"]["status"] == "blocked"
    assert "image" in summary.nodes["upscale"]["error"]


def test_summary_seeds_reused_nodes() -> None:
    summary = RunSummary(run_id="r")
    detail = [
        {"node_id": "image", "status": "reused", "batch_count": 1,
         "outputs": {"images": [{"url": "u", "asset_id": "asset-9", "content_type": "image/jpeg"}]}},
        {"node_id": "upscale", "status": "pending", "outputs": None},
    ]
    seed_from_detail(summary, detail, _TYPES)
    assert summary.nodes["image"]["reused"] is True
    assert summary.nodes["image"]["previews"] == [{"asset_id": "asset-9", "kind": "image"}]
    assert "upscale" not in summary.nodes


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/workflows/0b7c6a1e-5f7d-4c1e-9d7a-2d3f4e5a6b7c", "0b7c6a1e-5f7d-4c1e-9d7a-2d3f4e5a6b7c"),
        ("/workflows/0b7c6a1e-5f7d-4c1e-9d7a-2d3f4e5a6b7c/", "0b7c6a1e-5f7d-4c1e-9d7a-2d3f4e5a6b7c"),
        ("/workflows/not-a-uuid", None),
        ("/runs/0b7c6a1e-5f7d-4c1e-9d7a-2d3f4e5a6b7c", None),
    ],
)
def test_route_workflow_id(path: str, expected: str | None) -> None:
    result = route_workflow_id(path)
    assert (str(result) if result else None) == expected
