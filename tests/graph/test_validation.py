from __future__ import annotations

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import DocumentLimits, Edge, Node
from falflow.graph.problems import (
    BATCH_MISMATCH,
    CYCLE,
    DANGLING_EDGE,
    DUPLICATE_ID,
    INVALID_PARAM,
    MISSING_REQUIRED_INPUT,
    MULTIPLE_EDGES_INTO_PORT,
    PLACEHOLDER_NODE,
    TOO_LARGE,
    TYPE_MISMATCH,
    UNKNOWN_NODE_TYPE,
    Problem,
)
from falflow.graph.validation import validate_workflow

from .builders import document, edge, node

FLUX = "fal-ai/flux/dev"
CLARITY = "fal-ai/clarity-upscaler"


def codes(problems: list[Problem]) -> list[str]:
    return [problem.code for problem in problems]


def test_valid_graph_has_no_problems(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("p", "util/text", text="a cat"), node("f", FLUX), node("o", "util/output")],
        [edge("p", "f"), edge("f", "o", out="images", into="value")],
    )

    assert validate_workflow(workflow, catalog) == []


def test_unknown_node_type(catalog: NodeCatalog) -> None:
    workflow = document([node("x", "fal-ai/teleporter", power=9)])

    assert validate_workflow(workflow, catalog) == [
        Problem(
            code=UNKNOWN_NODE_TYPE,
            node_id="x",
            message=(
                "Node 'x' has the unknown type 'fal-ai/teleporter'. Replace it with a node "
                "from the palette or delete it."
            ),
        )
    ]
    assert workflow.nodes[0].params == {"power": 9}


def test_placeholder_node(catalog: NodeCatalog) -> None:
    placeholder = Node(id="x", type="fal-ai/new-model", params={"prompt": "p"}, placeholder=True)
    workflow = document(
        [placeholder, node("o", "util/output")], [edge("x", "o", out="images.0.url", into="value")]
    )

    problems = validate_workflow(workflow, catalog)

    assert codes(problems) == [PLACEHOLDER_NODE]
    assert problems[0].node_id == "x"
    assert "fal-ai/new-model, which is not in the node catalog" in problems[0].message


def test_missing_required_input(catalog: NodeCatalog) -> None:
    workflow = document([node("f", FLUX), node("u", CLARITY, image_url="")])

    problems = validate_workflow(workflow, catalog)

    assert problems == [
        Problem(
            code=MISSING_REQUIRED_INPUT,
            node_id="f",
            port="prompt",
            param="prompt",
            message="Connect a text output to 'prompt' of node 'f' or type a prompt.",
        ),
        Problem(
            code=MISSING_REQUIRED_INPUT,
            node_id="u",
            port="image_url",
            param="image_url",
            message="Connect an image output to 'image_url' of node 'u' or paste an image URL.",
        ),
    ]


def test_inline_value_satisfies_required_input(catalog: NodeCatalog) -> None:
    workflow = document([node("f", FLUX, prompt="a cat")])

    assert validate_workflow(workflow, catalog) == []


def test_missing_required_param_and_one_of(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("llm", "openrouter/router", prompt="hi"),
            node("img", "util/image-input"),
            node("list", "util/text-list"),
        ]
    )

    problems = validate_workflow(workflow, catalog)

    assert [(problem.code, problem.node_id, problem.param) for problem in problems] == [
        (MISSING_REQUIRED_INPUT, "llm", "model"),
        (MISSING_REQUIRED_INPUT, "img", "asset_id"),
        (MISSING_REQUIRED_INPUT, "list", "items"),
    ]
    assert problems[0].message == "Type a value for 'model' of node 'llm'; it is required."
    assert problems[1].message == (
        "Set 'asset_id' or 'url' of node 'img': choose an uploaded file or paste a URL."
    )
    assert problems[2].message == "Add at least one item to 'items' of node 'list'; it is required."


def test_type_mismatch(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("f", FLUX, prompt="a cat"), node("k", "fal-ai/kokoro/american-english")],
        [Edge(id="e1", source="f", source_port="images", target="k", target_port="prompt")],
    )

    assert validate_workflow(workflow, catalog) == [
        Problem(
            code=TYPE_MISMATCH,
            node_id="k",
            port="prompt",
            edge_id="e1",
            message=(
                "Edge 'e1' (f.images -> k.prompt): a list[image] output cannot feed a text "
                "input. Connect a text output to 'prompt' instead."
            ),
        )
    ]


def test_invalid_params(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node(
                "f", FLUX, prompt="a cat", num_images=9, output_format="gif",
                image_size={"width": 0, "height": 512}, guidance_scale="high",
                num_imagez=2, enable_safety_checker="yes",
            )
        ]
    )

    problems = validate_workflow(workflow, catalog)

    assert all(problem.code == INVALID_PARAM and problem.node_id == "f" for problem in problems)
    assert {problem.param: problem.message for problem in problems} == {
        "num_images": "'num_images' must be between 1 and 4; got 9.",
        "output_format": "'output_format' must be one of 'jpeg', 'png'; got 'gif'.",
        "image_size": (
            "'image_size' must be one of square_hd, square, portrait_4_3, portrait_16_9, "
            "landscape_4_3, landscape_16_9, or an object {\"width\": W, \"height\": H} with "
            "positive whole numbers; got {'width': 0, 'height': 512}."
        ),
        "guidance_scale": "'guidance_scale' must be a number; got 'high'.",
        "num_imagez": (
            "'num_imagez' is not a parameter of fal-ai/flux/dev. Did you mean 'num_images'? "
            "Remove it or rename it."
        ),
        "enable_safety_checker": "'enable_safety_checker' must be true or false; got 'yes'.",
    }


def test_valid_param_values_pass(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("f", FLUX, prompt="a cat", num_images=4.0, image_size={"width": 1500, "height": 800}),
            node("r", "fal-ai/recraft/v3/text-to-image", prompt="x", style="realistic_image/some_future_style"),
            node("u", CLARITY, image_url="https://example.com/a.png", upscale_factor=1.5),
        ]
    )

    assert validate_workflow(workflow, catalog) == []


def test_integer_param_rejects_fraction(catalog: NodeCatalog) -> None:
    workflow = document([node("f", FLUX, prompt="a cat", seed=1.5)])

    problems = validate_workflow(workflow, catalog)

    assert codes(problems) == [INVALID_PARAM]
    assert problems[0].message == "'seed' must be a whole number; got 1.5."


def test_cycle_reports_exact_path(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("a", "util/template", template="{x}"),
            node("b", "util/template", template="{x}"),
            node("c", "util/template", template="{x}"),
            node("d", "util/template", template="{x}"),
        ],
        [
            edge("d", "a", into="x"),
            edge("a", "b", into="x"),
            edge("b", "c", into="x"),
            edge("c", "d", into="x"),
        ],
    )

    problems = validate_workflow(workflow, catalog)

    assert problems == [
        Problem(
            code=CYCLE,
            node_id="a",
            path=["a", "b", "c", "d", "a"],
            message="Nodes a -> b -> c -> d -> a form a cycle; remove one of these connections.",
        )
    ]


def test_cycles_in_separate_components(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("a", "util/template", template="{x}"),
            node("b", "util/template", template="{x}"),
            node("s", "util/template", template="{x}"),
        ],
        [edge("a", "b", into="x"), edge("b", "a", into="x"), edge("s", "s", into="x")],
    )

    problems = validate_workflow(workflow, catalog)

    assert [(problem.code, problem.path) for problem in problems] == [
        (CYCLE, ["a", "b", "a"]),
        (CYCLE, ["s", "s"]),
    ]


def test_dangling_edges(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("p", "util/text", text="a"), node("f", FLUX)],
        [
            edge("ghost", "f"),
            edge("p", "f", into="num_images_port"),
            edge("p", "f", out="words"),
            edge("p", "f", into="output_format"),
            edge("p", "p", into="text"),
        ],
    )

    problems = validate_workflow(workflow, catalog)

    # p.words -> f.prompt is a wire into 'prompt' (its source end is wrong), so
    # 'prompt' is not also reported as missing. The self-loop is still a cycle.
    assert [(problem.code, problem.node_id, problem.port) for problem in problems] == [
        (DANGLING_EDGE, None, None),
        (DANGLING_EDGE, "f", "num_images_port"),
        (DANGLING_EDGE, "p", "words"),
        (DANGLING_EDGE, "f", "output_format"),
        (DANGLING_EDGE, "p", "text"),
        (CYCLE, "p", None),
    ]
    messages = [problem.message for problem in problems]
    assert messages[0] == (
        "Edge 'ghost.text -> f.prompt' refers to node 'ghost', which does not exist. Delete the edge."
    )
    assert "its inputs are: prompt, num_inference_steps" in messages[1]
    assert messages[2] == (
        "Edge 'p.words -> f.prompt' starts at output 'words', which node 'p' (Text) does not "
        "have; its outputs are: text."
    )
    assert "is a parameter and not an input port; type its value instead" in messages[3]
    assert messages[4] == (
        "Edge 'p.text -> p.text' ends at 'text' of node 'p', which is a parameter and not "
        "an input port; type its value instead."
    )


def test_bad_port_path(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("u", CLARITY, image_url="https://example.com/a.png"), node("o", "util/output")],
        [edge("u", "o", out="image.0", into="value")],
    )

    problems = validate_workflow(workflow, catalog)

    assert codes(problems) == [DANGLING_EDGE]
    assert problems[0].message == (
        "Edge 'u.image.0 -> o.value' selects 'image.0', but output 'image' is image; only "
        "list outputs take an index such as 'image.0'."
    )


def test_duplicate_ids(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("p", "util/text", text="a"), node("p", "util/text", text="b")],
        [
            Edge(id="e", source="p", source_port="text", target="p2", target_port="x"),
            Edge(id="e", source="p", source_port="text", target="p3", target_port="x"),
        ],
    )

    problems = [problem for problem in validate_workflow(workflow, catalog) if problem.code == DUPLICATE_ID]

    assert problems == [
        Problem(
            code=DUPLICATE_ID,
            node_id="p",
            message="Node id 'p' is used more than once; rename one of the nodes.",
        ),
        Problem(
            code=DUPLICATE_ID,
            edge_id="e",
            message="Edge id 'e' is used more than once; rename one of the edges.",
        ),
    ]


def test_multiple_edges_into_single_port(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("a", "util/text", text="a"), node("b", "util/text", text="b"), node("f", FLUX)],
        [edge("a", "f"), edge("b", "f")],
    )

    assert validate_workflow(workflow, catalog) == [
        Problem(
            code=MULTIPLE_EDGES_INTO_PORT,
            node_id="f",
            port="prompt",
            message=(
                "Input 'prompt' of node 'f' has 2 connections (from 'a.text', 'b.text') but "
                "takes one value. Remove all but one of them."
            ),
        )
    ]


def test_list_port_accepts_many_edges(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("a", "util/image-input", url="https://example.com/a.png"),
            node("b", "util/image-input", url="https://example.com/b.png"),
            node("n", "fal-ai/nano-banana/edit", prompt="merge them"),
        ],
        [edge("a", "n", out="image", into="image_urls"), edge("b", "n", out="image", into="image_urls")],
    )

    assert validate_workflow(workflow, catalog) == []


def test_too_large(catalog: NodeCatalog) -> None:
    limits = DocumentLimits(max_nodes=2, max_edges=1, max_params_json_bytes=100)
    workflow = document(
        [node("a", "util/text", text="x" * 200), node("b", "util/text", text="b"), node("c", FLUX, prompt="c")],
        [edge("a", "c"), edge("b", "c", into="negative_prompt_missing")],
    )

    problems = [problem for problem in validate_workflow(workflow, catalog, limits=limits) if problem.code == TOO_LARGE]

    assert [problem.node_id for problem in problems] == [None, None, "a"]
    assert problems[0].message == "The workflow has 3 nodes; the limit is 2. Split it into smaller workflows."
    assert problems[1].message == "The workflow has 2 edges; the limit is 1. Split it into smaller workflows."
    assert problems[2].message.startswith("The parameters of node 'a' take 212 bytes; the limit is 100.")


def test_batch_too_large(catalog: NodeCatalog) -> None:
    limits = DocumentLimits(max_batch_items=3)
    workflow = document(
        [node("l", "util/text-list", items=["a", "b", "c", "d"]), node("f", FLUX)],
        [edge("l", "f", out="items")],
    )

    problems = validate_workflow(workflow, catalog, limits=limits)

    assert problems == [
        Problem(
            code=TOO_LARGE,
            node_id="f",
            message=(
                "Node 'f' would run 4 times in a batch; the limit is 3. Shorten the lists "
                "that feed it."
            ),
        )
    ]


def test_batch_mismatch(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("l", "util/text-list", items=["a", "b", "c"]),
            node("s", "util/seed", count=2),
            node("f", FLUX),
        ],
        [edge("l", "f", out="items"), edge("s", "f", out="seeds", into="seed")],
    )

    problems = validate_workflow(workflow, catalog)

    assert codes(problems) == [BATCH_MISMATCH]
    assert problems[0].message == (
        "Node 'f' runs once per list item, but its lists have different lengths "
        "(prompt: 3, seed: 2). Make them the same length or use a single item for one of them."
    )


def test_batch_of_one_item_broadcasts(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("l", "util/text-list", items=["a", "b", "c"]),
            node("s", "util/seed", count=1),
            node("f", FLUX),
        ],
        [edge("l", "f", out="items"), edge("s", "f", out="seeds", into="seed")],
    )

    assert validate_workflow(workflow, catalog) == []


def test_every_problem_reported_at_once(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("x", "fal-ai/unknown"),
            node("f", FLUX, num_images=0),
            node("t", "util/template", template="{a} {template}"),
            node("o", "util/output"),
        ],
        [edge("t", "t", into="a"), edge("nowhere", "o", into="value")],
    )

    assert codes(validate_workflow(workflow, catalog)) == [
        UNKNOWN_NODE_TYPE,
        INVALID_PARAM,
        INVALID_PARAM,
        DANGLING_EDGE,
        MISSING_REQUIRED_INPUT,
        MISSING_REQUIRED_INPUT,
        CYCLE,
    ]
