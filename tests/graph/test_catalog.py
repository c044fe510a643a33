from __future__ import annotations

import json
from decimal import Decimal

from falflow.graph.catalog import BundledCatalogSource, NodeCatalog
from falflow.graph.ports import PortType
from falflow.graph.pricing import (
    FallbackPrice,
    PerImagePrice,
    PerMegapixelPrice,
    PerRequestPrice,
    PerSecondPrice,
    PerThousandCharactersPrice,
)
from falflow.graph.specs import NodeSpec
from falflow.graph.utility_specs import build_utility_specs


def test_catalog_has_every_endpoint_and_utility(catalog: NodeCatalog) -> None:
    specs = catalog.all()

    assert len([spec for spec in specs if spec.kind == "fal"]) == 33
    assert {spec.type for spec in specs if spec.kind == "utility"} == {
        "util/text", "util/template", "util/number", "util/seed",
        "util/text-list", "util/image-input", "util/output",
    }
    assert catalog.get("fal-ai/does-not-exist") is None


def test_flux_dev_spec(catalog: NodeCatalog) -> None:
    spec = catalog.get("fal-ai/flux/dev")
    assert spec is not None

    assert spec.title == "FLUX.1 [dev]"
    prompt = spec.param("prompt")
    assert prompt is not None
    assert prompt.connectable
    assert prompt.required
    assert [param.name for param in spec.params][:3] == ["prompt", "image_size", "num_inference_steps"]
    num_images = spec.param("num_images")
    assert num_images is not None
    assert (num_images.type, num_images.minimum, num_images.maximum) == (PortType.parse("integer"), 1, 4)
    image_size = spec.param("image_size")
    assert image_size is not None
    assert image_size.format == "image_size"
    outputs = {port.name: str(port.type) for port in spec.outputs}
    assert outputs == {
        "has_nsfw_concepts": "list[boolean]",
        "images": "list[image]",
        "prompt": "text",
        "seed": "integer",
    }
    assert isinstance(spec.price, PerMegapixelPrice) and spec.price.usd == Decimal("0.025")
    assert spec.price_source is not None and spec.price_source.kind == "fal (quoted)"


def test_media_inputs_are_ports(catalog: NodeCatalog) -> None:
    for spec in catalog.all():
        if spec.kind != "fal":
            continue
        for param in spec.params:
            if param.name.endswith("_url") or param.name in {"prompt", "text"}:
                assert param.connectable, (spec.type, param.name)
                assert spec.input_port(param.name, {}) is not None

    kling = catalog.get("fal-ai/kling-video/v2.1/standard/image-to-video")
    assert kling is not None
    assert str(kling.input_port("image_url", {}).type) == "image"  # type: ignore[union-attr]
    wizper = catalog.get("fal-ai/wizper")
    assert wizper is not None
    assert str(wizper.input_port("audio_url", {}).type) == "audio"  # type: ignore[union-attr]
    nano_edit = catalog.get("fal-ai/nano-banana/edit")
    assert nano_edit is not None
    assert str(nano_edit.input_port("image_urls", {}).type) == "list[image]"  # type: ignore[union-attr]


def test_output_fields_map_to_port_types(catalog: NodeCatalog) -> None:
    def output_types(type_id: str) -> dict[str, str]:
        spec = catalog.get(type_id)
        assert spec is not None
        return {port.name: str(port.type) for port in spec.outputs}

    assert output_types("fal-ai/clarity-upscaler") == {"image": "image", "seed": "integer"}
    assert output_types("fal-ai/stable-audio") == {"audio_file": "audio"}
    assert output_types("fal-ai/kokoro/american-english") == {"audio": "audio"}
    assert output_types("fal-ai/kling-video/v2.1/standard/image-to-video") == {"video": "video"}
    assert output_types("fal-ai/florence-2-large/detailed-caption") == {"results": "text"}
    assert output_types("openrouter/router")["output"] == "text"


def test_price_rules_per_endpoint(catalog: NodeCatalog) -> None:
    def price(type_id: str) -> object:
        spec = catalog.get(type_id)
        assert spec is not None
        return spec.price

    kling = price("fal-ai/kling-video/v2.1/standard/image-to-video")
    assert isinstance(kling, PerSecondPrice)
    assert (kling.usd, kling.included_seconds, kling.extra_usd_per_second) == (
        Decimal("0.28"), Decimal(5), Decimal("0.056"),
    )
    assert isinstance(price("fal-ai/nano-banana"), PerImagePrice)
    assert isinstance(price("fal-ai/bria/background/remove"), PerRequestPrice)
    kokoro = price("fal-ai/kokoro/american-english")
    assert isinstance(kokoro, PerThousandCharactersPrice) and kokoro.text_param == "prompt"
    clarity = price("fal-ai/clarity-upscaler")
    assert isinstance(clarity, PerMegapixelPrice) and clarity.scale_param == "upscale_factor"
    esrgan = price("fal-ai/esrgan")
    assert isinstance(esrgan, FallbackPrice) and esrgan.usd == Decimal("0.10")
    fast_sdxl = price("fal-ai/fast-sdxl")
    assert isinstance(fast_sdxl, PerRequestPrice) and fast_sdxl.approximate


def test_to_public_is_json(catalog: NodeCatalog) -> None:
    public = catalog.to_public()
    text = json.dumps(public)

    assert len(public) == len(catalog)
    flux = next(item for item in json.loads(text) if item["type"] == "fal-ai/flux/dev")
    assert flux["price_description"] == "US$0.025 per megapixel (rounded up per image)"
    assert flux["inputs"][0] == {
        "name": "prompt", "type": "text", "required": True, "description": "",
        "result_field": None, "count_param": None,
    }
    assert flux["price"]["kind"] == "per_megapixel"


def test_catalog_from_custom_source() -> None:
    class OnlyUtilities:
        def load_specs(self) -> list[NodeSpec]:
            return build_utility_specs()

    catalog = NodeCatalog.from_source(OnlyUtilities())

    assert len(catalog) == 7
    assert "util/text" in catalog
    assert "fal-ai/flux/dev" not in catalog
    assert len(BundledCatalogSource().load_specs()) == 40


def test_template_placeholders_become_inputs(catalog: NodeCatalog) -> None:
    spec = catalog.get("util/template")
    assert spec is not None

    ports = spec.input_ports({"template": "A {style} photo of {subject}, {{literal}} {style}"})

    assert [(port.name, str(port.type), port.required) for port in ports] == [
        ("style", "text", True),
        ("subject", "text", True),
    ]


def test_number_integer_switch(catalog: NodeCatalog) -> None:
    spec = catalog.get("util/number")
    assert spec is not None

    assert str(spec.output_ports({})[0].type) == "number"
    assert str(spec.output_ports({"integer": True})[0].type) == "integer"
