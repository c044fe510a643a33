from __future__ import annotations

import pytest

from falflow.graph.catalog import NodeCatalog
from falflow.graph.cost import estimate_workflow
from falflow.graph.scheduler import ExecutionPlan
from falflow.graph.templates import TEMPLATES, Template, get_template
from falflow.graph.validation import validate_workflow


def test_at_least_eight_templates_with_unique_ids() -> None:
    ids = [template.id for template in TEMPLATES]

    assert len(ids) >= 8
    assert len(set(ids)) == len(ids)
    assert get_template("flux-upscale") is TEMPLATES[0]
    assert get_template("missing") is None


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda template: template.id)
def test_template_is_valid_and_priced(catalog: NodeCatalog, template: Template) -> None:
    assert validate_workflow(template.document, catalog) == []

    estimate = estimate_workflow(template.document, catalog)
    assert estimate.total_credits > 0
    for node in template.document.nodes:
        spec = catalog.get(node.type)
        assert spec is not None
        if spec.kind == "fal":
            assert estimate.nodes[node.id].credits > 0, node.id

    plan = ExecutionPlan.from_document(template.document, catalog)
    assert len(plan.topological_order()) == len(template.document.nodes)
    assert any(node.type == "util/output" for node in template.document.nodes)


def test_main_journey_prices(catalog: NodeCatalog) -> None:
    template = get_template("flux-upscale")
    assert template is not None

    estimate = estimate_workflow(template.document, catalog)

    # schnell 1024x768 = 1 MP at US$0.003; clarity 2x -> 2048x1536 = 3 MP at US$0.03.
    assert estimate.nodes["image"].credits == 3
    assert estimate.nodes["upscale"].credits == 90
    assert estimate.total_credits == 93
    assert estimate.estimated is False


def test_batch_templates(catalog: NodeCatalog) -> None:
    seeds = get_template("seed-batch")
    variations = get_template("prompt-variations")
    assert seeds is not None and variations is not None

    assert estimate_workflow(seeds.document, catalog).nodes["images"].batch_count == 4
    assert estimate_workflow(variations.document, catalog).nodes["images"].batch_count == 3


def test_new_document_is_a_copy() -> None:
    template = TEMPLATES[0]
    original_text = template.document.nodes[0].params["text"]

    edited = template.new_document()
    edited.nodes[0].params["text"] = "changed"

    assert edited.nodes[0].params["text"] == "changed"
    assert template.document.nodes[0].params["text"] == original_text
