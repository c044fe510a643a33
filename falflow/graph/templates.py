"""Curated starter workflows shown in the template gallery.

Every template validates with zero problems against the bundled catalog and has a
price; the tests check both.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from falflow.graph.document import Edge, Node, Position, WorkflowDocument
from falflow.graph.utility_specs import (
    UTIL_IMAGE_INPUT,
    UTIL_OUTPUT,
    UTIL_SEED,
    UTIL_TEMPLATE,
    UTIL_TEXT,
    UTIL_TEXT_LIST,
)

# Horizontal distance between template columns, in editor pixels.
_COLUMN = 340.0
_ROW = 220.0

# fal's own example input for clarity-upscaler (from its API page), so the image
# templates validate and run before the user picks an image of their own.
SAMPLE_IMAGE_URL = "https://storage.googleapis.com/falserverless/gallery/NOCA_Mick-Thompson.resized.resized.jpg"
_OPENROUTER_MODEL = "google/gemini-2.5-flash"


class Template(BaseModel):
    """A starter workflow. Call `new_document()` to get a copy that is safe to edit."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    description: str
    document: WorkflowDocument

    def new_document(self) -> WorkflowDocument:
        """Return a deep copy of the template's document; editing it leaves the template unchanged."""
        return self.document.model_copy(deep=True)


def _node(
    node_id: str,
    node_type: str,
    column: float,
    row: float = 0,
    *,
    label: str | None = None,
    **params: Any,
) -> Node:
    return Node(
        id=node_id,
        type=node_type,
        params=params,
        position=Position(x=column * _COLUMN, y=row * _ROW),
        label=label,
    )


def _edge(source: str, source_port: str, target: str, target_port: str) -> Edge:
    return Edge(
        id=f"{source}-{target}-{target_port}",
        source=source,
        source_port=source_port,
        target=target,
        target_port=target_port,
    )


def _text_to_image() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("prompt", UTIL_TEXT, 0, label="Prompt",
                  text="A lighthouse on a cliff at dusk, dramatic clouds, 35mm photo"),
            _node("image", "fal-ai/flux/dev", 1, image_size="landscape_4_3", num_images=1),
            _node("result", UTIL_OUTPUT, 2, label="Image"),
        ],
        edges=[
            _edge("prompt", "text", "image", "prompt"),
            _edge("image", "images", "result", "value"),
        ],
    )


def _prompt_expansion() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("idea", UTIL_TEXT, 0, label="Idea", text="a cozy reading nook"),
            _node(
                "expand", "openrouter/router", 1, label="Expand prompt",
                model=_OPENROUTER_MODEL,
                system_prompt=(
                    "Rewrite the user's idea as one detailed image-generation prompt: "
                    "subject, setting, lighting, lens and style. Reply with the prompt only."
                ),
            ),
            _node("image", "fal-ai/flux/dev", 2, image_size="landscape_4_3"),
            _node("expanded", UTIL_OUTPUT, 2, 1, label="Expanded prompt"),
            _node("result", UTIL_OUTPUT, 3, label="Image"),
        ],
        edges=[
            _edge("idea", "text", "expand", "prompt"),
            _edge("expand", "output", "image", "prompt"),
            _edge("expand", "output", "expanded", "value"),
            _edge("image", "images", "result", "value"),
        ],
    )


def _upscale_image() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("source", UTIL_IMAGE_INPUT, 0, label="Image", url=SAMPLE_IMAGE_URL),
            _node("upscale", "fal-ai/clarity-upscaler", 1, upscale_factor=2),
            _node("result", UTIL_OUTPUT, 2, label="Upscaled image"),
        ],
        edges=[
            _edge("source", "image", "upscale", "image_url"),
            _edge("upscale", "image", "result", "value"),
        ],
    )


def _image_to_video() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("prompt", UTIL_TEXT, 0, label="Scene",
                  text="A red fox standing in fresh snow, golden hour, cinematic still"),
            _node("motion", UTIL_TEXT, 0, 1, label="Motion",
                  text="The fox turns its head toward the camera as snow falls gently"),
            _node("still", "fal-ai/flux/dev", 1, image_size="landscape_16_9"),
            _node("video", "fal-ai/kling-video/v2.1/standard/image-to-video", 2, duration="5"),
            _node("result", UTIL_OUTPUT, 3, label="Video"),
        ],
        edges=[
            _edge("prompt", "text", "still", "prompt"),
            _edge("still", "images.0", "video", "image_url"),
            _edge("motion", "text", "video", "prompt"),
            _edge("video", "video", "result", "value"),
        ],
    )


def _remove_background() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("source", UTIL_IMAGE_INPUT, 0, label="Image", url=SAMPLE_IMAGE_URL),
            _node("cutout", "fal-ai/bria/background/remove", 1),
            _node("result", UTIL_OUTPUT, 2, label="Cut-out"),
        ],
        edges=[
            _edge("source", "image", "cutout", "image_url"),
            _edge("cutout", "image", "result", "value"),
        ],
    )


def _text_to_speech() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("script", UTIL_TEXT, 0, label="Script",
                  text="Welcome to falflow. Connect nodes, press run, and watch every step."),
            _node("speech", "fal-ai/kokoro/american-english", 1, voice="af_heart"),
            _node("result", UTIL_OUTPUT, 2, label="Speech"),
        ],
        edges=[
            _edge("script", "text", "speech", "prompt"),
            _edge("speech", "audio", "result", "value"),
        ],
    )


def _seed_batch() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("prompt", UTIL_TEXT, 0, label="Prompt",
                  text="An isometric illustration of a tiny island village, soft pastel colors"),
            _node("seeds", UTIL_SEED, 0, 1, label="Four seeds", randomize=True, count=4),
            _node("images", "fal-ai/flux/schnell", 1, image_size="square_hd"),
            _node("result", UTIL_OUTPUT, 2, label="Variations"),
        ],
        edges=[
            _edge("prompt", "text", "images", "prompt"),
            _edge("seeds", "seeds", "images", "seed"),
            _edge("images", "images", "result", "value"),
        ],
    )


def _prompt_variations() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("subjects", UTIL_TEXT_LIST, 0, label="Subjects",
                  items=["a fox", "an owl", "a hedgehog"]),
            _node("prompt", UTIL_TEMPLATE, 1, label="Prompt",
                  template="A watercolor painting of {subject} in a misty forest"),
            _node("images", "fal-ai/flux/schnell", 2, image_size="square"),
            _node("result", UTIL_OUTPUT, 3, label="Paintings"),
        ],
        edges=[
            _edge("subjects", "items", "prompt", "subject"),
            _edge("prompt", "text", "images", "prompt"),
            _edge("images", "images", "result", "value"),
        ],
    )


def _flux_upscale() -> WorkflowDocument:
    return WorkflowDocument(
        nodes=[
            _node("prompt", UTIL_TEXT, 0, label="Prompt",
                  text="A detailed macro photo of a dew-covered spider web at sunrise"),
            _node("image", "fal-ai/flux/schnell", 1, image_size="landscape_4_3", num_images=1),
            _node("upscale", "fal-ai/clarity-upscaler", 2, upscale_factor=2),
            _node("result", UTIL_OUTPUT, 3, label="Upscaled image"),
        ],
        edges=[
            _edge("prompt", "text", "image", "prompt"),
            _edge("image", "images", "upscale", "image_url"),
            _edge("upscale", "image", "result", "value"),
        ],
    )


TEMPLATES: list[Template] = [
    Template(
        id="flux-upscale",
        title="Prompt to upscaled image",
        description="Generate an image with FLUX.1 [schnell] and upscale it 2x with Clarity.",
        document=_flux_upscale(),
    ),
    Template(
        id="text-to-image",
        title="Text to image",
        description="Turn a prompt into an image with FLUX.1 [dev].",
        document=_text_to_image(),
    ),
    Template(
        id="prompt-expansion",
        title="LLM prompt expansion",
        description="Let an LLM expand a short idea into a detailed prompt, then render it.",
        document=_prompt_expansion(),
    ),
    Template(
        id="upscale-image",
        title="Upscale an image",
        description="Upscale an uploaded image 2x with the Clarity upscaler.",
        document=_upscale_image(),
    ),
    Template(
        id="image-to-video",
        title="Text to image to video",
        description="Render a still with FLUX.1 [dev] and animate it with Kling 2.1.",
        document=_image_to_video(),
    ),
    Template(
        id="remove-background",
        title="Remove a background",
        description="Cut the subject out of an image with Bria RMBG 2.0.",
        document=_remove_background(),
    ),
    Template(
        id="text-to-speech",
        title="Text to speech",
        description="Read a script aloud with Kokoro.",
        document=_text_to_speech(),
    ),
    Template(
        id="seed-batch",
        title="Four seeds of one prompt",
        description="Run one prompt with four seeds as a batch and compare the results.",
        document=_seed_batch(),
    ),
    Template(
        id="prompt-variations",
        title="One template, many subjects",
        description="Fill a prompt template from a list and render each variation.",
        document=_prompt_variations(),
    ),
]


def get_template(template_id: str) -> Template | None:
    for template in TEMPLATES:
        if template.id == template_id:
            return template
    return None
