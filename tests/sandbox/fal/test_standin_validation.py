"""Input validation against the bundled catalog, in fal's 422 detail format (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from falflow.sandbox.fal.catalog import InputKind, load_catalog
from falflow.sandbox.fal.generators import GENERATORS
from falflow.sandbox.fal.validation import validate_arguments, with_defaults

CATALOG = load_catalog()


def problems(endpoint_id: str, arguments: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return [(entry["loc"], entry["type"]) for entry in validate_arguments(CATALOG[endpoint_id], arguments)]


def test_catalog_has_generator_for_every_endpoint() -> None:
    assert len(CATALOG) == 33
    assert set(GENERATORS) == set(CATALOG)


def kind_of(endpoint_id: str, name: str) -> InputKind:
    spec = CATALOG[endpoint_id].input(name)
    assert spec is not None, f"{endpoint_id} has no input {name}"
    return spec.kind


def test_input_kinds_are_derived() -> None:
    assert kind_of("fal-ai/flux/dev", "image_size") is InputKind.IMAGE_SIZE
    assert kind_of("fal-ai/flux/dev", "num_images") is InputKind.NUMBER
    assert kind_of("fal-ai/flux/dev", "output_format") is InputKind.ENUM
    assert kind_of("fal-ai/nano-banana/edit", "image_urls") is InputKind.URL_LIST
    assert kind_of("fal-ai/esrgan", "image_url") is InputKind.URL
    assert kind_of("fal-ai/minimax/speech-02-hd", "voice_setting") is InputKind.OBJECT


@pytest.mark.parametrize(
    ("endpoint_id", "arguments", "expected"),
    [
        ("fal-ai/flux/dev", {}, [(["body", "prompt"], "missing")]),
        ("fal-ai/flux/dev", {"prompt": "  "}, [(["body", "prompt"], "string_too_short")]),
        ("fal-ai/flux/dev", {"prompt": 3}, [(["body", "prompt"], "string_type")]),
        ("fal-ai/flux/dev", {"prompt": "x", "num_images": 5}, [(["body", "num_images"], "less_than_equal")]),
        ("fal-ai/flux/dev", {"prompt": "x", "num_images": 1.5}, [(["body", "num_images"], "int_type")]),
        ("fal-ai/flux/dev", {"prompt": "x", "guidance_scale": "high"}, [(["body", "guidance_scale"], "float_type")]),
        ("fal-ai/flux/dev", {"prompt": "x", "guidance_scale": True}, [(["body", "guidance_scale"], "float_type")]),
        ("fal-ai/flux/dev", {"prompt": "x", "output_format": "gif"}, [(["body", "output_format"], "literal_error")]),
        ("fal-ai/flux/dev", {"prompt": "x", "image_size": "huge"}, [(["body", "image_size"], "literal_error")]),
        (
            "fal-ai/flux/dev",
            {"prompt": "x", "image_size": {"width": 10}},
            [(["body", "image_size", "width"], "greater_than_equal"), (["body", "image_size", "height"], "missing")],
        ),
        (
            "fal-ai/flux/dev",
            {"prompt": "x", "enable_safety_checker": "yes"},
            [(["body", "enable_safety_checker"], "bool_type")],
        ),
        ("fal-ai/esrgan", {"image_url": "ftp://host/x.png"}, [(["body", "image_url"], "url_parsing")]),
        ("fal-ai/nano-banana/edit", {"prompt": "x", "image_urls": []}, [(["body", "image_urls"], "too_short")]),
        ("fal-ai/nano-banana/edit", {"prompt": "x", "image_urls": [5]}, [(["body", "image_urls", 0], "string_type")]),
        ("fal-ai/fast-sdxl", {"prompt": "x", "loras": ["a"]}, [(["body", "loras", 0], "dict_type")]),
        (
            "fal-ai/minimax/speech-02-hd",
            {"text": "x", "voice_setting": "calm"},
            [(["body", "voice_setting"], "dict_type")],
        ),
    ],
)
def test_invalid_inputs(endpoint_id: str, arguments: dict[str, Any], expected: list[tuple[list[Any], str]]) -> None:
    assert problems(endpoint_id, arguments) == expected


def test_valid_inputs_and_truncated_enums() -> None:
    assert problems("fal-ai/flux/dev", {"prompt": "x", "image_size": {"width": 640, "height": 480}, "seed": 3}) == []
    # The catalog lists only part of wizper's 99 languages, so an unlisted one must pass.
    assert problems("fal-ai/wizper", {"audio_url": "data:,x", "language": "zu"}) == []
    assert problems("fal-ai/kokoro/american-english", {}) == []
    assert problems("fal-ai/flux/dev", {"prompt": "x", "unknown_field": 1}) == []


def test_error_entry_format() -> None:
    entry = validate_arguments(CATALOG["fal-ai/flux/dev"], {"prompt": "x", "num_images": 9})[0]

    assert entry == {
        "loc": ["body", "num_images"],
        "msg": "Input should be less than or equal to 4",
        "type": "less_than_equal",
        "ctx": {"le": 4},
        "input": 9,
    }


def test_defaults_fill_omitted_inputs() -> None:
    resolved = with_defaults(CATALOG["fal-ai/flux/dev"], {"prompt": "x", "num_images": None})

    assert resolved["num_images"] == 1
    assert resolved["image_size"] == "landscape_4_3"
    assert resolved["output_format"] == "jpeg"
    assert "seed" not in resolved
