from __future__ import annotations

import copy
from typing import Any

import pytest

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import Edge, Node, Position, WorkflowDocument
from falflow.graph.errors import FalExportError, FalImportError
from falflow.graph.falformat import export_fal_workflow, import_fal_workflow, parse_reference
from falflow.graph.problems import PLACEHOLDER_NODE
from falflow.graph.templates import TEMPLATES
from falflow.graph.validation import validate_workflow

from .builders import document, edge, node

# A workflow in fal's saved format: a prompt input, FLUX, Kling image-to-video
# fed by the first generated image, and a display node.
FAL_IMAGE_TO_VIDEO: dict[str, Any] = {
    "name": "fox-video",
    "title": "Fox video",
    "is_public": True,
    "contents": {
        "name": "fox-video",
        "version": "1",
        "nodes": {
            "node-image": {
                "id": "node-image",
                "type": "run",
                "depends": ["input"],
                "app": "fal-ai/flux/dev",
                "input": {"prompt": "$input.prompt", "image_size": "landscape_16_9"},
            },
            "node-video": {
                "id": "node-video",
                "type": "run",
                "depends": ["node-image", "input"],
                "app": "fal-ai/kling-video/v2.1/standard/image-to-video",
                "input": {
                    "prompt": "$input.prompt",
                    "image_url": "$node-image.images.0.url",
                    "duration": "10",
                },
            },
            "output": {
                "id": "output",
                "type": "display",
                "depends": ["node-video"],
                "input": {},
                "fields": {"video": "$node-video.video.url"},
            },
        },
        "output": {"video": "$node-video.video.url"},
        "schema": {
            "input": {
                "prompt": {
                    "name": "prompt",
                    "label": "Prompt",
                    "type": "string",
                    "required": True,
                    "modelId": "node-image",
                }
            },
            "output": {"video": {"name": "video", "label": "Video", "type": "string"}},
        },
        "metadata": {
            "input": {"position": {"x": 0, "y": 0}},
            "node-image": {"position": {"x": 300, "y": 0}},
            "node-video": {"position": {"x": 600, "y": 40}},
            "output": {"position": {"x": 900, "y": 40}},
        },
    },
}


def wires(workflow: WorkflowDocument) -> list[tuple[str, str, str, str]]:
    return sorted(
        (item.source, item.source_port, item.target, item.target_port) for item in workflow.edges
    )


def test_import_list_index_reference(catalog: NodeCatalog) -> None:
    result = import_fal_workflow(FAL_IMAGE_TO_VIDEO, catalog)
    imported = result.document

    assert result.warnings == []
    assert [(item.id, item.type) for item in imported.nodes] == [
        ("prompt", "util/text"),
        ("node-image", "fal-ai/flux/dev"),
        ("node-video", "fal-ai/kling-video/v2.1/standard/image-to-video"),
        ("output", "util/output"),
    ]
    assert wires(imported) == [
        ("node-image", "images.0", "node-video", "image_url"),
        ("node-video", "video", "output", "value"),
        ("prompt", "text", "node-image", "prompt"),
        ("prompt", "text", "node-video", "prompt"),
    ]
    nodes = imported.node_map()
    assert nodes["node-image"].params == {"image_size": "landscape_16_9"}
    assert nodes["node-video"].params == {"duration": "10"}
    assert nodes["node-video"].position == Position(x=600, y=40)
    assert nodes["prompt"].label == "Prompt"
    assert nodes["output"].label == "video"


def test_imported_workflow_validates_after_typing_prompt(catalog: NodeCatalog) -> None:
    imported = import_fal_workflow(FAL_IMAGE_TO_VIDEO, catalog).document

    problems = validate_workflow(imported, catalog)
    assert [(problem.code, problem.node_id) for problem in problems] == [
        ("missing_required_input", "prompt")
    ]

    imported.node_map()["prompt"].params["text"] = "a fox in the snow"
    assert validate_workflow(imported, catalog) == []


def test_reexport_of_import_keeps_references(catalog: NodeCatalog) -> None:
    imported = import_fal_workflow(FAL_IMAGE_TO_VIDEO, catalog).document

    exported = export_fal_workflow(imported, catalog, name="fox-video", title="Fox video")
    nodes = exported["contents"]["nodes"]

    assert nodes["node-video"]["input"] == {
        "duration": "10",
        "prompt": "$input.prompt",
        "image_url": "$node-image.images.0.url",
    }
    assert nodes["node-video"]["depends"] == ["input", "node-image"]
    assert nodes["output"]["fields"] == {"video": "$node-video.video.url"}
    assert exported["contents"]["output"] == {"video": "$node-video.video.url"}
    assert exported["contents"]["schema"]["input"]["prompt"]["modelId"] == "node-image"


@pytest.mark.parametrize(
    "template",
    [template for template in TEMPLATES if template.id not in {"seed-batch", "prompt-variations"}],
    ids=lambda template: template.id,
)
def test_template_round_trip(catalog: NodeCatalog, template: Any) -> None:
    original: WorkflowDocument = template.document

    exported = export_fal_workflow(original, catalog, name=template.id, title=template.title)
    result = import_fal_workflow(exported, catalog)

    assert result.warnings == []
    strip = {"id", "type", "params", "position", "label", "placeholder"}
    assert sorted((item.model_dump(include=strip) for item in result.document.nodes), key=str) == sorted(
        (item.model_dump(include=strip) for item in original.nodes), key=str
    )
    assert wires(result.document) == wires(original)


def test_round_trip_keeps_labels_and_shadowed_params(catalog: NodeCatalog) -> None:
    original = WorkflowDocument(
        nodes=[
            Node(id="p", type="util/text", params={"text": "cat"}, label="Subject"),
            Node(id="n", type="util/number", params={"value": 3, "integer": True}),
            Node(
                id="f", type="fal-ai/flux/schnell",
                params={"prompt": "hidden by the edge", "num_images": 1},
                position=Position(x=10.5, y=-20), label="Draft",
            ),
            Node(id="o", type="util/output", label="Result"),
        ],
        edges=[
            edge("p", "f"),
            edge("n", "f", out="value", into="num_inference_steps"),
            edge("f", "o", out="images", into="value"),
        ],
    )

    exported = export_fal_workflow(original, catalog, name="n", title="t")
    restored = import_fal_workflow(exported, catalog).document

    assert exported["contents"]["schema"]["input"]["n"]["type"] == "integer"
    assert exported["contents"]["nodes"]["f"]["input"]["prompt"] == "$input.p"
    assert restored.node_map() == original.node_map()
    assert wires(restored) == wires(original)


def test_unknown_endpoint_imports_as_placeholder(catalog: NodeCatalog) -> None:
    data = copy.deepcopy(FAL_IMAGE_TO_VIDEO)
    data["contents"]["nodes"]["node-image"]["app"] = "fal-ai/brand-new-model"
    data["contents"]["nodes"]["node-image"]["input"].update(
        {"strength": 0.7, "loras": [{"path": "https://x/l.safetensors", "scale": 1}]}
    )

    result = import_fal_workflow(data, catalog)
    placeholder = result.document.node_map()["node-image"]

    assert placeholder.placeholder is True
    assert placeholder.type == "fal-ai/brand-new-model"
    assert placeholder.params == {
        "image_size": "landscape_16_9",
        "strength": 0.7,
        "loras": [{"path": "https://x/l.safetensors", "scale": 1}],
    }
    assert result.warnings == [
        "Node 'node-image' uses fal-ai/brand-new-model, which is not in the node catalog; "
        "it was imported as a placeholder that keeps its parameters."
    ]
    assert ("node-image", "images.0.url", "node-video", "image_url") in wires(result.document)

    result.document.node_map()["prompt"].params["text"] = "a fox"
    problems = validate_workflow(result.document, catalog)
    assert [(problem.code, problem.node_id) for problem in problems] == [(PLACEHOLDER_NODE, "node-image")]

    exported = export_fal_workflow(result.document, catalog, name="x", title="x")
    assert exported["contents"]["nodes"]["node-image"]["app"] == "fal-ai/brand-new-model"
    assert exported["contents"]["nodes"]["node-image"]["input"] == {
        **data["contents"]["nodes"]["node-image"]["input"],
        "prompt": "$input.prompt",
    }
    assert exported["contents"]["nodes"]["node-video"]["input"]["image_url"] == "$node-image.images.0.url"


def test_import_lists_displays_and_warnings(catalog: NodeCatalog) -> None:
    data = {
        "nodes": {
            "a": {"id": "a", "type": "run", "depends": ["input"], "app": "fal-ai/flux/schnell",
                  "input": {"prompt": "$input.prompt", "num_images": 2}},
            "b": {"id": "b", "type": "run", "depends": ["a", "c"], "app": "fal-ai/nano-banana/edit",
                  "input": {
                      "prompt": "$input.prompt",
                      "image_urls": ["https://example.com/ref.png", "$a.images.0.url", "$a.images.1.url"],
                      "loras": [{"path": "$input.lora"}],
                  }},
            "c": {"id": "c", "type": "run", "depends": [], "app": "fal-ai/flux/dev",
                  "input": {"prompt": "unrelated"}},
            "show": {"id": "show", "type": "display", "depends": ["a", "b"],
                     "fields": ["$a.images.0.url", "$b.images"]},
        },
        "output": {"final": "$b.images.0.url"},
        "schema": {"input": {"prompt": {"name": "prompt", "type": "string", "default": "a cat"}}},
    }

    result = import_fal_workflow(data, catalog)
    imported = result.document

    assert wires(imported) == [
        ("a", "images.0", "b", "image_urls"),
        ("a", "images.0", "show-show_0", "value"),
        ("a", "images.1", "b", "image_urls"),
        ("b", "images", "show-show_1", "value"),
        ("b", "images.0", "output-final", "value"),
        ("prompt", "text", "a", "prompt"),
        ("prompt", "text", "b", "prompt"),
    ]
    assert imported.node_map()["b"].params == {
        "image_urls": ["https://example.com/ref.png"],
        "loras": [{"path": "$input.lora"}],
    }
    assert imported.node_map()["prompt"].params == {"text": "a cat"}
    assert result.warnings == [
        "Input 'image_urls' of node 'b' mixes references and literal values; the literals "
        "were kept as the inline value, which the connections override.",
        "Input 'loras' of node 'b' has a reference inside an object, which falflow cannot "
        "connect; it was kept as literal text.",
        "Node 'b' depends on 'c' without using its output; falflow orders nodes by their "
        "connections, so this ordering was not kept.",
    ]


def test_import_image_input_and_missing_input(catalog: NodeCatalog) -> None:
    data = {
        "nodes": {
            "up": {"id": "up", "type": "run", "depends": ["input"], "app": "fal-ai/clarity-upscaler",
                   "input": {"image_url": "$input.photo", "prompt": "$input.style"}},
        },
        "schema": {"input": {"photo": {"name": "photo", "type": "string", "default": "https://e.com/p.png"}}},
    }

    result = import_fal_workflow(data, catalog)
    nodes = result.document.node_map()

    assert nodes["photo"].type == "util/image-input"
    assert nodes["photo"].params == {"url": "https://e.com/p.png"}
    assert nodes["style"].type == "util/text"
    assert wires(result.document) == [
        ("photo", "image", "up", "image_url"),
        ("style", "text", "up", "prompt"),
    ]
    assert result.warnings == [
        "Reference $input.style names an input missing from 'schema.input'; a text node "
        "was created for it."
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "x"}, "it has no 'nodes' object"),
        ({"nodes": []}, "'nodes' must be a JSON object; got list"),
        ({"nodes": {"i": {"id": "i", "type": "input"}}}, "fal workflows allow only 'run' and 'display'"),
        ({"nodes": {"r": {"id": "r", "type": "run", "input": {}}}}, "Run node 'r' has no 'app'"),
    ],
)
def test_import_rejects_non_workflows(catalog: NodeCatalog, data: dict[str, Any], message: str) -> None:
    with pytest.raises(FalImportError, match=message):
        import_fal_workflow(data, catalog)


def test_export_rejects_templates_and_batches(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("list", "util/text-list", items=["a", "b"]),
            node("t", "util/template", template="{x}"),
            node("f", "fal-ai/flux/schnell", prompt="$5 bill"),
            node("u", "fal-ai/clarity-upscaler"),
        ],
        [
            edge("list", "t", out="items", into="x"),
            edge("f", "u", out="images", into="image_url"),
        ],
    )
    workflow.nodes[2].params["num_images"] = 2

    with pytest.raises(FalExportError) as raised:
        export_fal_workflow(workflow, catalog, name="x", title="x")

    assert raised.value.reasons == [
        "Node 't' (Template) has no fal workflow equivalent because fal workflows cannot "
        "fill text templates; use an LLM node or type the full text instead.",
        "Param 'prompt' of node 'f' starts with '$', which fal reads as a reference; "
        "rephrase the value.",
        "Edge f.images -> u.image_url runs its target once per list item, which fal "
        "workflows cannot do; connect a single item (for example 'images.0') instead.",
    ]


def test_export_expands_image_lists(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("f", "fal-ai/flux/schnell", prompt="x", num_images=3),
            node("n", "fal-ai/nano-banana/edit", prompt="blend"),
        ],
        [Edge(source="f", source_port="images", target="n", target_port="image_urls")],
    )

    exported = export_fal_workflow(workflow, catalog, name="x", title="x")

    assert exported["contents"]["nodes"]["n"]["input"]["image_urls"] == [
        "$f.images.0.url", "$f.images.1.url", "$f.images.2.url",
    ]


def test_parse_reference() -> None:
    reference = parse_reference("$node-1.images.0.url")

    assert reference is not None
    assert (reference.root, reference.segments) == ("node-1", ("images", "0", "url"))
    assert str(reference) == "$node-1.images.0.url"
    assert parse_reference("$5 off today") is None
    assert parse_reference("plain text") is None
    assert parse_reference(3) is None


def test_export_rejects_dangling_edge(catalog: NodeCatalog) -> None:
    workflow = document([node("o", "util/output")], [edge("ghost", "o", into="value")])

    with pytest.raises(FalExportError) as raised:
        export_fal_workflow(workflow, catalog, name="x", title="x")

    assert raised.value.reasons == [
        "Edge ghost.text -> o.value comes from node 'ghost', which does not exist."
    ]
