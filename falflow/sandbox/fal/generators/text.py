"""LLM endpoints (OpenRouter router and router/vision): deterministic, clearly labelled replies."""

from __future__ import annotations

from typing import Any

from falflow.sandbox.fal.generators.context import GenerationContext
from falflow.sandbox.fal.generators.media_inputs import load_image
from falflow.sandbox.fal.generators.transforms import describe_image

# A rough rule of thumb for English text: about four characters per token.
_CHARS_PER_TOKEN = 4


def chat(ctx: GenerationContext) -> dict[str, Any]:
    """Return the router's output: a reply that restates the prompt, with token usage."""
    prompt = ctx.text("prompt")
    reply = f"SANDBOX reply from {ctx.text('model')}: {prompt.strip()}"
    return _with_usage(ctx, prompt, reply, include_partial=True)


def chat_vision(ctx: GenerationContext) -> dict[str, Any]:
    """Return the vision router's output: a reply that describes each input image."""
    prompt = ctx.text("prompt")
    urls = ctx.arguments.get("image_urls") or []
    descriptions = [describe_image(load_image(ctx, ["image_urls", index], str(url))) for index, url in enumerate(urls)]
    reply = f"SANDBOX reply from {ctx.text('model')} to '{prompt.strip()}': " + " ".join(descriptions)
    return _with_usage(ctx, prompt, reply, include_partial=False)


def _with_usage(ctx: GenerationContext, prompt: str, reply: str, *, include_partial: bool) -> dict[str, Any]:
    max_tokens = ctx.arguments.get("max_tokens")
    if isinstance(max_tokens, int) and len(reply) > max_tokens * _CHARS_PER_TOKEN:
        reply = reply[: max_tokens * _CHARS_PER_TOKEN]
    input_tokens = _estimate_tokens(ctx.text("system_prompt") + prompt)
    output_tokens = _estimate_tokens(reply)
    output: dict[str, Any] = {
        "output": reply,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "cost": 0.0,
        },
    }
    if include_partial:
        output["partial"] = False
    if ctx.flag("reasoning"):
        output["reasoning"] = "Sandbox reasoning: no language model ran."
    return output


def _estimate_tokens(text: str) -> int:
    return max(1, -(-len(text) // _CHARS_PER_TOKEN))
