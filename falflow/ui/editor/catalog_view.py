"""The node catalog and the port compatibility table, trimmed to what the editor draws.

Both are compiled into the page as literals: they come from the bundled catalog, which
only changes with a new build of the app.
"""

from __future__ import annotations

import functools
from typing import Any

from falflow.graph.ports import compatibility_table
from falflow.graph.pricing import FreePrice
from falflow.graph.specs import NodeSpec
from falflow.workflows.endpoints import get_catalog

_PARAM_FIELDS = (
    "name", "type", "default", "minimum", "maximum", "enum", "enum_is_partial",
    "required", "description", "order", "connectable", "format",
)


def _port(port: dict[str, Any]) -> dict[str, Any]:
    return {"name": port["name"], "type": port["type"], "required": port["required"]}


def _unit_price_usd(spec: NodeSpec) -> float | None:
    """Return the base price of one billed unit in US dollars; 0 for free nodes, None when unknown."""
    if isinstance(spec.price, FreePrice):
        return 0.0
    usd = getattr(spec.price, "usd", None)
    return float(usd) if usd is not None else None


def palette_entry(spec: NodeSpec) -> dict[str, Any]:
    """Return one node type as the editor's palette and node renderer read it."""
    public = spec.to_public()
    return {
        "type": spec.type,
        "title": spec.title,
        "category": spec.category,
        "kind": spec.kind,
        "description": spec.description,
        "inputs": [_port(port) for port in public["inputs"]],
        "outputs": [_port(port) for port in public["outputs"]],
        "params": [{field: param[field] for field in _PARAM_FIELDS} for param in public["params"]],
        "price": public["price_description"],
        "price_usd": _unit_price_usd(spec),
        "template_param": spec.template_param,
        "required_one_of": list(spec.required_one_of),
    }


@functools.cache
def palette_catalog() -> list[dict[str, Any]]:
    """Return every node type of the bundled catalog, in catalog order."""
    return [palette_entry(spec) for spec in get_catalog().all()]


@functools.cache
def connection_table() -> dict[str, dict[str, dict[str, bool]]]:
    """Return `falflow.graph.ports.compatibility_table()`, which the browser uses while dragging."""
    return compatibility_table()
