from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from falflow.graph.catalog import NodeCatalog
from falflow.graph.cost import NodeEstimate, actual_cost, estimate_workflow
from falflow.graph.document import Node, WorkflowDocument
from falflow.graph.pricing import usd_to_credits
from falflow.graph.specs import NodeSpec

from .builders import document, edge, node

FLUX_DEV = "fal-ai/flux/dev"
SCHNELL = "fal-ai/flux/schnell"
CLARITY = "fal-ai/clarity-upscaler"
KOKORO = "fal-ai/kokoro/american-english"


def estimate_one(catalog: NodeCatalog, subject: Node, *, margin_bps: int = 0) -> NodeEstimate:
    return estimate_workflow(document([subject]), catalog, margin_bps=margin_bps).nodes[subject.id]


def spec_of(catalog: NodeCatalog, type_id: str) -> NodeSpec:
    spec = catalog.get(type_id)
    assert spec is not None
    return spec


@pytest.mark.parametrize(
    ("params", "credits", "megapixels"),
    [
        ({}, 25, 1),  # landscape_4_3 default: 1024x768 rounds up to 1 MP
        ({"image_size": "square_hd"}, 25, 1),  # 1024x1024 is exactly 1 MP
        ({"image_size": "square_hd", "num_images": 2}, 50, 2),
        ({"image_size": {"width": 1500, "height": 1500}}, 75, 3),  # 2.15 MP rounds up to 3
        ({"image_size": {"width": 1025, "height": 1024}, "num_images": 4}, 200, 8),
    ],
)
def test_per_megapixel_rounds_up_per_image(
    catalog: NodeCatalog, params: dict[str, Any], credits: int, megapixels: int
) -> None:
    estimate = estimate_one(catalog, node("f", FLUX_DEV, prompt="x", **params))

    assert estimate.credits == credits
    assert estimate.unit_count == megapixels
    assert estimate.unit == "megapixel"
    assert estimate.estimated is False


def test_schnell_small_image(catalog: NodeCatalog) -> None:
    estimate = estimate_one(catalog, node("f", SCHNELL, prompt="x", image_size="portrait_16_9", num_images=4))

    assert (estimate.credits, estimate.usd, estimate.unit_count) == (12, Decimal("0.012"), Decimal(4))


def test_per_image_with_count_and_variant(catalog: NodeCatalog) -> None:
    banana = estimate_one(catalog, node("b", "fal-ai/nano-banana", prompt="x", num_images=3))
    vector = estimate_one(
        catalog, node("r", "fal-ai/recraft/v3/text-to-image", prompt="x", style="vector_illustration/line_art")
    )
    plain = estimate_one(catalog, node("r", "fal-ai/recraft/v3/text-to-image", prompt="x"))

    assert (banana.credits, banana.unit_count, banana.rule) == (117, Decimal(3), "per_image")
    assert vector.credits == 80
    assert plain.credits == 40


@pytest.mark.parametrize(
    ("type_id", "params", "credits"),
    [
        ("fal-ai/kling-video/v2.1/standard/image-to-video", {"duration": "5"}, 280),
        ("fal-ai/kling-video/v2.1/standard/image-to-video", {"duration": "10"}, 560),
        ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"duration": "10"}, 700),
        ("fal-ai/veo3.1", {}, 3200),  # 8 s default at US$0.40 with audio
        ("fal-ai/veo3.1", {"generate_audio": False, "duration": "4s"}, 800),
        ("fal-ai/minimax/hailuo-02/standard/image-to-video", {"resolution": "512P"}, 102),
        ("fal-ai/wan/v2.2-a14b/text-to-video", {}, 507),  # 81 frames / 16 fps = 5.0625 s
        ("fal-ai/mmaudio-v2", {"duration": 8}, 8),
    ],
)
def test_per_second_prices(
    catalog: NodeCatalog, type_id: str, params: dict[str, Any], credits: int
) -> None:
    spec = spec_of(catalog, type_id)
    inline = {"prompt": "x", **params}
    if spec.param("image_url") is not None:
        inline["image_url"] = "https://example.com/a.png"
    if spec.param("video_url") is not None:
        inline["video_url"] = "https://example.com/a.mp4"

    assert estimate_one(catalog, node("v", type_id, **inline)).credits == credits


def test_third_party_video_price_is_flagged(catalog: NodeCatalog) -> None:
    estimate = estimate_one(catalog, node("l", "fal-ai/luma-dream-machine/ray-2", prompt="x", duration="9s"))

    assert estimate.credits == 900  # US$0.50 for 5 s, then US$0.10 per extra second
    assert estimate.estimated is True
    assert estimate.note == "The price comes from a secondary source and may differ from fal's."


def test_per_thousand_characters(catalog: NodeCatalog) -> None:
    short = estimate_one(catalog, node("k", KOKORO, prompt="hello"))
    long = estimate_workflow(
        document([node("t", "util/text", text="a" * 1500), node("k", KOKORO)], [edge("t", "k")]),
        catalog,
    ).nodes["k"]

    assert (short.credits, short.unit_count, short.unit) == (1, Decimal(5), "character")
    assert (long.credits, long.unit_count, long.estimated) == (30, Decimal(1500), False)


def test_characters_per_batch_item(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("l", "util/text-list", items=["a" * 1000, "b" * 2500]), node("k", KOKORO)],
        [edge("l", "k", out="items")],
    )

    estimate = estimate_workflow(workflow, catalog).nodes["k"]

    assert (estimate.credits, estimate.batch_count, estimate.unit_count) == (70, 2, Decimal(3500))


def test_characters_from_template(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("name", "util/text", text="Ada"),
            node("t", "util/template", template="Hello {name}!"),
            node("k", KOKORO),
        ],
        [edge("name", "t", into="name"), edge("t", "k")],
    )

    estimate = estimate_workflow(workflow, catalog).nodes["k"]

    assert (estimate.unit_count, estimate.credits, estimate.estimated) == (Decimal(10), 1, False)


def test_unknown_text_length_is_assumed(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("llm", "openrouter/router", prompt="write", model="m"), node("k", KOKORO)],
        [edge("llm", "k", out="output")],
    )

    estimate = estimate_workflow(workflow, catalog).nodes["k"]

    assert (estimate.credits, estimate.unit_count, estimate.estimated) == (20, Decimal(1000), True)
    assert estimate.note == "The text length is unknown; priced as 1000 characters per run."


def test_per_request_prices(catalog: NodeCatalog) -> None:
    bria = estimate_one(catalog, node("b", "fal-ai/bria/background/remove", image_url="https://e.com/a.png"))
    sdxl = estimate_one(catalog, node("s", "fal-ai/fast-sdxl", prompt="x"))

    assert (bria.credits, bria.rule, bria.estimated) == (18, "per_request", False)
    assert (sdxl.credits, sdxl.estimated) == (3, True)  # US$0.0025 rounds up to 3 credits


def test_unknown_price_uses_flagged_fallback(catalog: NodeCatalog) -> None:
    image = estimate_one(catalog, node("e", "fal-ai/esrgan", image_url="https://e.com/a.png"))

    assert (image.credits, image.rule, image.estimated) == (100, "fallback", True)
    assert image.note == "The price of fal-ai/esrgan is unknown; a conservative US$0.10 per request is used."


def test_upscaler_uses_upstream_size(catalog: NodeCatalog) -> None:
    def upscale_credits(size: str, factor: float) -> int:
        workflow = document(
            [node("f", SCHNELL, prompt="x", image_size=size), node("u", CLARITY, upscale_factor=factor)],
            [edge("f", "u", out="images", into="image_url")],
        )
        estimate = estimate_workflow(workflow, catalog).nodes["u"]
        assert estimate.estimated is False
        return estimate.credits

    assert upscale_credits("square_hd", 2) == 120  # 2048x2048 = 4 MP at US$0.03
    assert upscale_credits("square_hd", 4) == 480  # 16 MP
    assert upscale_credits("landscape_4_3", 2) == 90  # 2048x1536 = exactly 3 MP
    assert upscale_credits("square", 1.5) == 30  # 768x768 rounds up to 1 MP


def test_upscaler_from_image_input_size(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("i", "util/image-input", url="https://e.com/a.png", width=1000, height=500),
            node("u", CLARITY, upscale_factor=2),
        ],
        [edge("i", "u", out="image", into="image_url")],
    )

    assert estimate_workflow(workflow, catalog).nodes["u"].credits == 60  # 2,000,000 px -> 2 MP


def test_upscaler_through_background_removal(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("f", FLUX_DEV, prompt="x", image_size="square_hd"),
            node("b", "fal-ai/bria/background/remove"),
            node("u", CLARITY, upscale_factor=2),
        ],
        [edge("f", "b", out="images.0", into="image_url"), edge("b", "u", out="image", into="image_url")],
    )

    assert estimate_workflow(workflow, catalog).nodes["u"].credits == 120


def test_upscaler_unknown_input_size(catalog: NodeCatalog) -> None:
    estimate = estimate_one(catalog, node("u", CLARITY, image_url="https://e.com/a.png"))

    assert (estimate.credits, estimate.estimated) == (120, True)
    assert estimate.note == "The input image size is unknown; priced as a 1 megapixel input."


def test_batch_multiplies_cost(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("p", "util/text", text="x"),
            node("f", SCHNELL, image_size="square_hd", num_images=3),
            node("u", CLARITY, upscale_factor=2),
        ],
        [edge("p", "f"), edge("f", "u", out="images", into="image_url")],
    )

    estimate = estimate_workflow(workflow, catalog)

    assert (estimate.nodes["f"].credits, estimate.nodes["f"].batch_count) == (9, 1)
    assert (estimate.nodes["u"].credits, estimate.nodes["u"].batch_count) == (360, 3)
    assert estimate.total_credits == 369
    assert estimate.estimated is False


def test_seed_batch(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("p", "util/text", text="x"), node("s", "util/seed", count=4), node("f", SCHNELL, image_size="square_hd")],
        [edge("p", "f"), edge("s", "f", out="seeds", into="seed")],
    )

    estimate = estimate_workflow(workflow, catalog).nodes["f"]

    assert (estimate.credits, estimate.batch_count, estimate.unit_count) == (12, 4, Decimal(4))


def test_nested_batch_multiplies(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("l", "util/text-list", items=["a", "b"]),
            node("f", SCHNELL, image_size="square_hd", num_images=2),
            node("u", CLARITY, upscale_factor=1),
        ],
        [edge("l", "f", out="items"), edge("f", "u", out="images", into="image_url")],
    )

    estimate = estimate_workflow(workflow, catalog)

    assert (estimate.nodes["f"].batch_count, estimate.nodes["f"].credits) == (2, 12)
    assert (estimate.nodes["u"].batch_count, estimate.nodes["u"].credits) == (4, 120)


def test_unknown_batch_size_is_flagged(catalog: NodeCatalog) -> None:
    workflow = document(
        [node("x", "fal-ai/ffmpeg-api/extract-frame", video_url="https://e.com/a.mp4"), node("u", CLARITY)],
        [edge("x", "u", out="images", into="image_url")],
    )

    estimate = estimate_workflow(workflow, catalog).nodes["u"]

    assert (estimate.batch_count, estimate.estimated, estimate.credits) == (1, True, 120)
    assert estimate.note is not None and estimate.note.startswith("The batch size is known only")


def test_margin_rounds_up(catalog: NodeCatalog) -> None:
    estimate = estimate_one(catalog, node("f", FLUX_DEV, prompt="x"), margin_bps=1500)

    assert estimate.credits == 29  # 25 credits x 1.15 = 28.75
    assert usd_to_credits(Decimal("0.025"), margin_bps=0) == 25
    with pytest.raises(ValueError, match="margin_bps must be zero or positive; got -1"):
        usd_to_credits(Decimal(1), margin_bps=-1)


def test_unknown_node_is_unpriced(catalog: NodeCatalog) -> None:
    estimate = estimate_workflow(
        WorkflowDocument(nodes=[Node(id="x", type="fal-ai/unknown")]), catalog
    )

    assert estimate.nodes["x"].rule == "unpriced"
    assert (estimate.total_credits, estimate.estimated) == (0, True)


def test_utility_nodes_are_free(catalog: NodeCatalog) -> None:
    estimate = estimate_one(catalog, node("t", "util/text", text="x"))

    assert (estimate.credits, estimate.rule) == (0, "free")


def test_actual_cost_megapixels_from_result(catalog: NodeCatalog) -> None:
    spec = spec_of(catalog, FLUX_DEV)
    result = {
        "images": [
            {"url": "https://e.com/1.png", "width": 1024, "height": 1024},
            {"url": "https://e.com/2.png", "width": 1500, "height": 1500},
        ]
    }

    assert actual_cost(spec, {"prompt": "x", "num_images": 2}, result) == 100
    no_sizes = {"images": [{"url": "https://e.com/1.png"}]}
    assert actual_cost(spec, {"prompt": "x", "image_size": "square_hd"}, no_sizes) == 25
    assert actual_cost(spec, {"prompt": "x"}, result, margin_bps=1000) == 110


def test_actual_cost_counts_returned_images(catalog: NodeCatalog) -> None:
    spec = spec_of(catalog, "fal-ai/nano-banana")
    result = {"images": [{"url": "a"}, {"url": "b"}], "description": ""}

    assert actual_cost(spec, {"prompt": "x", "num_images": 3}, result) == 78


def test_actual_cost_upscaler_output_size(catalog: NodeCatalog) -> None:
    spec = spec_of(catalog, CLARITY)

    measured = {"image": {"url": "u", "width": 2048, "height": 1536}}
    assert actual_cost(spec, {"image_url": "x", "upscale_factor": 2}, measured) == 90
    assert actual_cost(spec, {"image_url": "x", "upscale_factor": 2}, {"image": {"url": "u"}}) == 120


def test_actual_cost_video_duration(catalog: NodeCatalog) -> None:
    spec = spec_of(catalog, "fal-ai/kling-video/v2.1/standard/image-to-video")

    assert actual_cost(spec, {"duration": "10"}, {"video": {"url": "v"}}) == 560
    assert actual_cost(spec, {"duration": "10"}, {"video": {"url": "v", "duration": 7}}) == 392


def test_actual_cost_characters_and_requests(catalog: NodeCatalog) -> None:
    assert actual_cost(spec_of(catalog, KOKORO), {"prompt": "a" * 1500}, {"audio": {"url": "a"}}) == 30
    assert actual_cost(spec_of(catalog, "fal-ai/bria/background/remove"), {}, {"image": {"url": "a"}}) == 18
    assert actual_cost(spec_of(catalog, "util/text"), {"text": "x"}, {}) == 0


def test_connected_count_param_sets_batch(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("n", "util/number", value=3, integer=True),
            node("f", SCHNELL, prompt="x", image_size="square_hd"),
            node("u", CLARITY, upscale_factor=1),
        ],
        [
            edge("n", "f", out="value", into="num_images"),
            edge("f", "u", out="images", into="image_url"),
        ],
    )

    estimate = estimate_workflow(workflow, catalog)

    assert estimate.nodes["f"].credits == 9
    assert (estimate.nodes["u"].batch_count, estimate.nodes["u"].credits) == (3, 90)


def test_unknown_count_uses_maximum(catalog: NodeCatalog) -> None:
    workflow = document(
        [
            node("s", "util/seed", randomize=True),
            node("b", "fal-ai/nano-banana", prompt="x"),
            node("u", CLARITY, image_url="https://e.com/a.png"),
        ],
        [edge("s", "b", out="seed", into="num_images"), edge("s", "u", out="seed", into="upscale_factor")],
    )

    estimate = estimate_workflow(workflow, catalog)

    assert (estimate.nodes["b"].credits, estimate.nodes["b"].estimated) == (156, True)
    assert estimate.nodes["b"].note == "'num_images' is known only at run time; priced at its maximum, 4."
    assert estimate.nodes["u"].credits == 480  # assumed 1 MP input x 4 x 4
