"""Values that can be known before a run, for cost estimates.

A port's value is known statically when it is typed inline, or when it comes from
a utility node whose output depends only on its params (text, number, text list,
a fixed seed, a template over such values). Image sizes follow the chain of
generators, background removers and upscalers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from falflow.graph.catalog import NodeCatalog
from falflow.graph.document import Edge, Node, WorkflowDocument
from falflow.graph.ports import PortPath
from falflow.graph.sizes import ImageSize, parse_image_size
from falflow.graph.specs import TEMPLATE_TOKEN, NodeSpec
from falflow.graph.utility_specs import (
    UTIL_IMAGE_INPUT,
    UTIL_NUMBER,
    UTIL_SEED,
    UTIL_TEMPLATE,
    UTIL_TEXT,
    UTIL_TEXT_LIST,
)


@dataclass(frozen=True)
class StaticInput:
    """The value an input will receive; `known` is False when only the run can determine it."""

    value: Any
    known: bool
    connected: bool


class StaticValues:
    """Looks up statically known input values and image sizes in one document."""

    def __init__(self, document: WorkflowDocument, catalog: NodeCatalog) -> None:
        self._nodes = document.node_map()
        self._catalog = catalog
        self._incoming: dict[tuple[str, str], list[Edge]] = {}
        for edge in document.edges:
            self._incoming.setdefault((edge.target, edge.target_port), []).append(edge)

    def resolve(self, node: Node, port: str) -> StaticInput:
        """Return the value `port` of `node` will receive, with defaults applied."""
        edges = self._incoming.get((node.id, port))
        if not edges:
            spec = self._catalog.get(node.type)
            params = spec.with_defaults(node.params) if spec else node.params
            return StaticInput(value=params.get(port), known=True, connected=False)
        if len(edges) > 1:
            return StaticInput(value=None, known=False, connected=True)
        value, known = self._output_value(edges[0].source, edges[0].source_port, set())
        return StaticInput(value=value, known=known, connected=True)

    def input_value(self, node: Node, port: str) -> Any:
        """Return the statically known value of `port`, or None."""
        resolved = self.resolve(node, port)
        return resolved.value if resolved.known else None

    def text_lengths(self, node: Node, port: str) -> list[int] | None:
        """Return the character count per run of a text input, or None if unknown.

        A list (a batch of texts) gives one count per item.
        """
        resolved = self.resolve(node, port)
        if not resolved.known:
            return None
        value = resolved.value
        if value is None:
            return [0]
        if isinstance(value, str):
            return [len(value)]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [len(item) for item in value]
        return None

    def upstream_image_size(self, node: Node, spec: NodeSpec) -> ImageSize | None:
        """Return the size of the image fed to `spec.image_input`, if derivable."""
        return self._input_image_size(node, spec, set())

    def _input_image_size(self, node: Node, spec: NodeSpec, seen: set[str]) -> ImageSize | None:
        if spec.image_input is None:
            return None
        edges = self._incoming.get((node.id, spec.image_input))
        if not edges or len(edges) > 1:
            return None
        return self._output_image_size(edges[0].source, seen)

    def _output_image_size(self, node_id: str, seen: set[str]) -> ImageSize | None:
        if node_id in seen:
            return None  # A cycle; validation reports it.
        seen.add(node_id)
        node = self._nodes.get(node_id)
        spec = self._catalog.get(node.type) if node else None
        if node is None or spec is None:
            return None
        params = spec.with_defaults(node.params)
        if spec.type == UTIL_IMAGE_INPUT:
            return parse_image_size({"width": params.get("width"), "height": params.get("height")})
        if spec.size_behavior == "param":
            return parse_image_size(params.get("image_size"))
        if spec.size_behavior == "preserve":
            return self._input_image_size(node, spec, seen)
        if spec.size_behavior == "scale" and spec.scale_param is not None:
            size = self._input_image_size(node, spec, seen)
            factor = self.input_value(node, spec.scale_param)
            if size is None or isinstance(factor, bool) or not isinstance(factor, int | float):
                return None
            scale = Decimal(str(factor))
            return ImageSize(int(size.width * scale), int(size.height * scale))
        return None

    def _output_value(self, node_id: str, source_port: str, seen: set[str]) -> tuple[Any, bool]:
        # Returns (value, known). Only utility nodes have outputs known before a run.
        if node_id in seen:
            return None, False
        seen.add(node_id)
        node = self._nodes.get(node_id)
        if node is None:
            return None, False
        path = PortPath.parse(source_port)
        value, known = self._utility_output(node, path.port, seen)
        for step in path.steps:
            if not known:
                break
            if isinstance(step, int) and isinstance(value, list) and step < len(value):
                value = value[step]
            else:
                return None, False
        return value, known

    def _utility_output(self, node: Node, port: str, seen: set[str]) -> tuple[Any, bool]:
        params = node.params
        if node.type == UTIL_TEXT and port == "text":
            return params.get("text", ""), True
        if node.type == UTIL_NUMBER and port == "value":
            return params.get("value", 0), True
        if node.type == UTIL_TEXT_LIST and port == "items":
            return params.get("items", []), True
        if node.type == UTIL_SEED and not params.get("randomize", True):
            base = params.get("seed", 0)
            if port == "seed":
                return base, True
            if port == "seeds" and isinstance(base, int):
                return [base + offset for offset in range(params.get("count", 1))], True
        if node.type == UTIL_TEMPLATE and port == "text":
            return self._template_text(node, seen)
        return None, False

    def _template_text(self, node: Node, seen: set[str]) -> tuple[Any, bool]:
        template = node.params.get("template")
        if not isinstance(template, str):
            return None, False
        filled: dict[str, str] = {}
        for match in TEMPLATE_TOKEN.finditer(template):
            name = match.group(1)
            if name is None or name in filled:
                continue
            resolved = self._placeholder_value(node, name, seen)
            if not isinstance(resolved, str):
                return None, False
            filled[name] = resolved
        return fill_template(template, filled), True

    def _placeholder_value(self, node: Node, name: str, seen: set[str]) -> Any:
        edges = self._incoming.get((node.id, name))
        if not edges:
            return node.params.get(name)
        if len(edges) > 1:
            return None
        value, known = self._output_value(edges[0].source, edges[0].source_port, set(seen))
        return value if known else None


def fill_template(template: str, values: dict[str, str]) -> str:
    """Replace `{name}` placeholders with `values`; `{{` and `}}` become braces.

    Raises KeyError naming the first placeholder without a value.
    """

    def replace(match: Any) -> str:
        token: str = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values[match.group(1)]

    return TEMPLATE_TOKEN.sub(replace, template)
