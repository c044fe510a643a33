from __future__ import annotations

import hashlib
import re

import pytest

from falflow.graph.cache import cache_key
from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import Edge, Node
from falflow.graph.errors import InputResolutionError, OutputExtractionError, UtilityNodeError
from falflow.graph.evaluate import (
    PortValue,
    combine_batch_outputs,
    extract_outputs,
    resolve_inputs,
    run_utility,
)
from falflow.graph.specs import NodeSpec

from .builders import edge, node

SCHNELL = "fal-ai/flux/schnell"
CLARITY = "fal-ai/clarity-upscaler"

IMAGE_A: dict[str, PortValue] = {"url": "https://cdn.test/a.png", "asset_id": "a", "width": 1024, "height": 768}
IMAGE_B: dict[str, PortValue] = {"url": "https://cdn.test/b.png", "asset_id": "b", "width": 1024, "height": 768}


def spec_of(catalog: NodeCatalog, type_id: str) -> NodeSpec:
    spec = catalog.get(type_id)
    assert spec is not None
    return spec


def test_resolve_merges_defaults_params_and_connections(catalog: NodeCatalog) -> None:
    flux = node("f", SCHNELL, prompt="inline prompt", num_images=2)

    runs = resolve_inputs(
        flux,
        spec_of(catalog, SCHNELL),
        {("p", "text"): "connected prompt"},
        edges=[edge("p", "f"), edge("p", "other")],
    )

    assert runs == [
        {
            "prompt": "connected prompt",
            "image_size": "landscape_4_3",
            "num_inference_steps": 4,
            "num_images": 2,
            "output_format": "jpeg",
            "enable_safety_checker": True,
            "acceleration": "none",
        }
    ]


def test_resolve_media_becomes_url(catalog: NodeCatalog) -> None:
    upscaler = node("u", CLARITY, upscale_factor=3)

    runs = resolve_inputs(
        upscaler,
        spec_of(catalog, CLARITY),
        {("f", "images"): [IMAGE_A]},
        edges=[edge("f", "u", out="images.0", into="image_url")],
    )

    assert len(runs) == 1
    assert runs[0]["image_url"] == "https://cdn.test/a.png"
    assert runs[0]["upscale_factor"] == 3


def test_resolve_batch_expansion(catalog: NodeCatalog) -> None:
    upscaler = node("u", CLARITY, prompt="sharp")

    runs = resolve_inputs(
        upscaler,
        spec_of(catalog, CLARITY),
        {("f", "images"): [IMAGE_A, IMAGE_B]},
        edges=[edge("f", "u", out="images", into="image_url")],
    )

    assert [run["image_url"] for run in runs] == ["https://cdn.test/a.png", "https://cdn.test/b.png"]
    assert all(run["prompt"] == "sharp" for run in runs)


def test_resolve_zips_batches_and_repeats_single_items(catalog: NodeCatalog) -> None:
    flux = node("f", SCHNELL)
    upstream: dict[tuple[str, str], PortValue] = {
        ("l", "items"): ["a fox", "an owl", "a cat"],
        ("s", "seeds"): [7, 8, 9],
        ("g", "items"): ["shared negative"],
    }

    runs = resolve_inputs(
        flux,
        spec_of(catalog, SCHNELL),
        upstream,
        edges=[edge("l", "f", out="items"), edge("s", "f", out="seeds", into="seed")],
    )

    assert [(run["prompt"], run["seed"]) for run in runs] == [("a fox", 7), ("an owl", 8), ("a cat", 9)]

    broadcast = resolve_inputs(
        node("f", SCHNELL),
        spec_of(catalog, SCHNELL),
        {("l", "items"): ["only one"], ("s", "seeds"): [1, 2]},
        edges=[edge("l", "f", out="items"), edge("s", "f", out="seeds", into="seed")],
    )
    assert [(run["prompt"], run["seed"]) for run in broadcast] == [("only one", 1), ("only one", 2)]


def test_resolve_batch_mismatch_raises(catalog: NodeCatalog) -> None:
    with pytest.raises(InputResolutionError, match=r"different lengths \(prompt: 3, seed: 2\)"):
        resolve_inputs(
            node("f", SCHNELL),
            spec_of(catalog, SCHNELL),
            {("l", "items"): ["a", "b", "c"], ("s", "seeds"): [1, 2]},
            edges=[edge("l", "f", out="items"), edge("s", "f", out="seeds", into="seed")],
        )


def test_resolve_list_port_concatenates(catalog: NodeCatalog) -> None:
    edit = node("n", "fal-ai/nano-banana/edit", prompt="merge")

    runs = resolve_inputs(
        edit,
        spec_of(catalog, "fal-ai/nano-banana/edit"),
        {("i", "image"): IMAGE_A, ("f", "images"): [IMAGE_B, IMAGE_A]},
        edges=[
            edge("i", "n", out="image", into="image_urls"),
            edge("f", "n", out="images", into="image_urls"),
        ],
    )

    assert len(runs) == 1
    assert runs[0]["image_urls"] == [
        "https://cdn.test/a.png", "https://cdn.test/b.png", "https://cdn.test/a.png",
    ]


def test_resolve_errors_name_the_problem(catalog: NodeCatalog) -> None:
    spec = spec_of(catalog, CLARITY)
    into_image = [edge("f", "u", out="images.0", into="image_url")]

    with pytest.raises(InputResolutionError, match="run 'f' first"):
        resolve_inputs(node("u", CLARITY), spec, {}, edges=into_image)
    with pytest.raises(InputResolutionError, match=re.escape("Cannot select 'images.0'")):
        resolve_inputs(node("u", CLARITY), spec, {("f", "images"): []}, edges=into_image)
    with pytest.raises(InputResolutionError, match="asset 'a' has no URL yet"):
        resolve_inputs(node("u", CLARITY), spec, {("f", "images"): [{"asset_id": "a"}]}, edges=into_image)


def test_resolve_utility_keeps_media_dicts(catalog: NodeCatalog) -> None:
    runs = resolve_inputs(
        node("o", "util/output"),
        spec_of(catalog, "util/output"),
        {("f", "images"): [IMAGE_A, IMAGE_B]},
        edges=[edge("f", "o", out="images", into="value")],
    )

    assert runs == [{"value": [IMAGE_A, IMAGE_B]}]


def test_extract_outputs(catalog: NodeCatalog) -> None:
    result = {
        "images": [{"url": "https://fal.test/1.jpg", "width": 1024, "height": 768, "content_type": "image/jpeg"}],
        "seed": 42.0,
        "prompt": "a cat",
        "has_nsfw_concepts": [False],
        "timings": {"inference": 1.2},
    }

    outputs = extract_outputs(spec_of(catalog, SCHNELL), result)

    assert outputs == {
        "images": [{"url": "https://fal.test/1.jpg", "width": 1024, "height": 768, "content_type": "image/jpeg"}],
        "seed": 42,
        "prompt": "a cat",
        "has_nsfw_concepts": [False],
    }


def test_extract_outputs_errors(catalog: NodeCatalog) -> None:
    spec = spec_of(catalog, CLARITY)

    with pytest.raises(OutputExtractionError, match="has no 'image' field"):
        extract_outputs(spec, {"seed": 1, "timings": {}})
    with pytest.raises(OutputExtractionError, match="should contain image; got 12"):
        extract_outputs(spec, {"image": 12, "seed": 1})


def test_extract_optional_output_absent(catalog: NodeCatalog) -> None:
    outputs = extract_outputs(spec_of(catalog, "fal-ai/birefnet/v2"), {"image": {"url": "https://x/y.png"}})

    assert outputs == {"image": {"url": "https://x/y.png"}}


def test_combine_batch_outputs(catalog: NodeCatalog) -> None:
    spec = spec_of(catalog, SCHNELL)
    runs: list[dict[str, PortValue]] = [
        {"images": [IMAGE_A], "seed": 1, "prompt": "a"},
        {"images": [IMAGE_B], "seed": 2, "prompt": "b"},
    ]

    combined = combine_batch_outputs(spec, {}, runs)

    assert combined["images"] == [IMAGE_A, IMAGE_B]
    assert combined["seed"] == [1, 2]
    assert combined["prompt"] == ["a", "b"]


def test_run_template(catalog: NodeCatalog) -> None:
    template = Node(id="t", type="util/template", params={"template": "{{x}} {a} and {b} {a}"})

    inputs: dict[str, PortValue] = {"template": "{{x}} {a} and {b} {a}", "a": "cats", "b": 3}

    outputs = run_utility(template, spec_of(catalog, "util/template"), inputs)

    assert outputs == {"text": "{x} cats and 3 cats"}
    with pytest.raises(UtilityNodeError, match=re.escape("Placeholder '{b}' of node 't' has no text value")):
        run_utility(template, spec_of(catalog, "util/template"), {"template": "{a} {b}", "a": "x"})


def test_run_seed(catalog: NodeCatalog) -> None:
    spec = spec_of(catalog, "util/seed")
    seed = Node(id="s", type="util/seed")

    fixed = run_utility(seed, spec, {"seed": 10, "randomize": False, "count": 3})
    random = run_utility(seed, spec, {"seed": 10, "randomize": True, "count": 2}, random_seed=2**32 + 5)

    assert fixed == {"seed": 10, "seeds": [10, 11, 12]}
    assert random == {"seed": 5, "seeds": [5, 6]}
    with pytest.raises(UtilityNodeError, match="pass random_seed"):
        run_utility(seed, spec, {"randomize": True, "count": 1})


def test_run_simple_utilities(catalog: NodeCatalog) -> None:
    def run(type_id: str, inputs: dict[str, object]) -> object:
        return run_utility(Node(id="n", type=type_id), spec_of(catalog, type_id), inputs)  # type: ignore[arg-type]

    assert run("util/text", {"text": "hi"}) == {"text": "hi"}
    assert run("util/number", {"value": 2.0, "integer": True}) == {"value": 2}
    assert run("util/number", {"value": 2.5}) == {"value": 2.5}
    assert run("util/text-list", {"items": ["a", "b"]}) == {"items": ["a", "b"]}
    assert run("util/image-input", {"asset_id": "a1", "width": 10}) == {"image": {"asset_id": "a1", "width": 10}}
    assert run("util/output", {"value": [1, 2]}) == {"value": [1, 2]}
    with pytest.raises(UtilityNodeError, match="must be a whole number because 'integer' is set"):
        run("util/number", {"value": 2.5, "integer": True})
    with pytest.raises(UtilityNodeError, match="neither 'asset_id' nor 'url'"):
        run("util/image-input", {})


def test_cache_key_is_canonical() -> None:
    hashes = {"https://cdn/a.png": "abc", "https://cdn/other.png": "abc"}
    arguments = {"prompt": "cat", "num_images": 2.0, "image_url": "https://cdn/a.png"}

    first = cache_key("fal-ai/flux/dev", arguments, hashes)
    # Same content under another URL, keys reordered, 2.0 written as 2.
    reordered = cache_key(
        "fal-ai/flux/dev", {"image_url": "https://cdn/other.png", "num_images": 2, "prompt": "cat"}, hashes
    )
    different = cache_key("fal-ai/flux/dev", {**arguments, "prompt": "dog"}, hashes)
    other_endpoint = cache_key("fal-ai/flux/schnell", arguments, hashes)

    assert first == reordered
    assert len(first) == 64
    assert int(first, 16) >= 0
    assert first != different
    assert first != other_endpoint
    with pytest.raises(ValueError, match="non-finite number nan"):
        cache_key("x", {"a": float("nan")}, {})


def test_cache_key_matches_documented_format() -> None:
    canonical = '{"arguments":{"image_url":"sha256:abc","prompt":"café"},"endpoint":"e","version":1}'
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    assert cache_key("e", {"prompt": "café", "image_url": "https://a"}, {"https://a": "abc"}) == expected


def test_edges_into_other_nodes_are_ignored(catalog: NodeCatalog) -> None:
    runs = resolve_inputs(
        node("t", "util/text", text="own"),
        spec_of(catalog, "util/text"),
        {},
        edges=[Edge(source="x", source_port="text", target="y", target_port="prompt")],
    )

    assert runs == [{"text": "own"}]
