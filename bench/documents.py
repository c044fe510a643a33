"""Workflow documents the benchmarks run: chains of fal nodes with small images."""

from __future__ import annotations

from typing import Any

TEXT_TO_IMAGE = "fal-ai/flux/schnell"
# Keeps the image size, so a long chain does not grow its images the way an upscaler would.
IMAGE_TO_IMAGE = "fal-ai/bria/background/remove"
IMAGE_SIDE_PIXELS = 256


def flux_arguments(seed: int | None) -> dict[str, Any]:
    """Return the arguments of the chain's first node, as the engine sends them to fal.

    Without a seed, the engine picks one per run, so every run makes images of its own.
    """
    arguments: dict[str, Any] = {
        "prompt": "a paper boat on a lake",
        "image_size": {"width": IMAGE_SIDE_PIXELS, "height": IMAGE_SIDE_PIXELS},
        "num_images": 1,
    }
    if seed is not None:
        arguments["seed"] = seed
    return arguments


def fal_chain(nodes: int, *, seed: int | None) -> dict[str, Any]:
    """Return a document of one text-to-image node followed by `nodes - 1` image-to-image nodes.

    The chain has no utility node, so every node is one fal request. With `seed=None` each run
    gets its own seed, so its outputs are new files with new thumbnails, as a user's runs are;
    with a fixed seed every run after the first finds its files stored already.
    """
    if nodes < 1:
        raise ValueError(f"a chain needs at least one node, got nodes={nodes}")
    document_nodes: list[dict[str, Any]] = [{"id": "n0", "type": TEXT_TO_IMAGE, "params": flux_arguments(seed)}]
    edges = []
    for index in range(1, nodes):
        document_nodes.append({"id": f"n{index}", "type": IMAGE_TO_IMAGE, "params": {}})
        source_port = "images" if index == 1 else "image"
        edges.append(
            {"source": f"n{index - 1}", "source_port": source_port, "target": f"n{index}", "target_port": "image_url"}
        )
    return {"nodes": document_nodes, "edges": edges}


def utility_only(text: str) -> dict[str, Any]:
    """Return a workflow without fal nodes, whose runs finish in the engine's first step and cost nothing."""
    return {"nodes": [{"id": "prompt", "type": "util/text", "params": {"text": text}}], "edges": []}
