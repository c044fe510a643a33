"""The node catalog: every node type the editor offers, keyed by type id.

`CatalogSource` is the seam for live mode. `BundledCatalogSource` reads the catalog
JSON shipped in `falflow/graph/catalog_data`. A live source would instead read fal's model
API (`GET https://api.fal.ai/v1/models?expand=openapi-3.0`) and pricing API
(`GET https://api.fal.ai/v1/models/pricing`), cache the responses and convert them
to the same `NodeSpec`s. This package contains no network code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

from falflow.graph.fal_specs import build_fal_spec
from falflow.graph.specs import NodeSpec
from falflow.graph.utility_specs import build_utility_specs

logger = logging.getLogger(__name__)

# The folder is not called `data/` because the repository's .gitignore ignores
# every folder of that name.
BUNDLED_CATALOG_DIRECTORY = "catalog_data"
BUNDLED_CATALOG_FILE = "fal_catalog.json"


class CatalogSource(Protocol):
    """Supplies node specs; implementations may cache and refresh them."""

    def load_specs(self) -> list[NodeSpec]:
        """Return the specs of every node type this source provides."""
        ...


class NodeCatalog:
    """An immutable set of node specs keyed by type id."""

    def __init__(self, specs: Iterable[NodeSpec]) -> None:
        self._specs: dict[str, NodeSpec] = {}
        for spec in specs:
            if spec.type in self._specs:
                raise ValueError(f"Duplicate node type {spec.type!r} in the catalog.")
            self._specs[spec.type] = spec

    @classmethod
    def from_source(cls, source: CatalogSource) -> NodeCatalog:
        return cls(source.load_specs())

    def get(self, type_id: str) -> NodeSpec | None:
        return self._specs.get(type_id)

    def all(self) -> list[NodeSpec]:
        """Return every spec in the order the source supplied them.

        The bundled source lists utility nodes first, then fal endpoints in the
        order of the catalog file.
        """
        return list(self._specs.values())

    def to_public(self) -> list[dict[str, Any]]:
        """Return the JSON list served by `GET /api/nodes` for the palette and API users."""
        return [spec.to_public() for spec in self._specs.values()]

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._specs

    def __len__(self) -> int:
        return len(self._specs)


class BundledCatalogSource:
    """Reads the catalog JSON bundled with the package (read once per process)."""

    def load_specs(self) -> list[NodeSpec]:
        raw = _read_bundled_catalog()
        specs = build_utility_specs()
        specs.extend(build_fal_spec(entry) for entry in raw["endpoints"])
        return specs


@lru_cache(maxsize=1)
def _read_bundled_catalog() -> dict[str, Any]:
    path = resources.files("falflow.graph").joinpath(BUNDLED_CATALOG_DIRECTORY, BUNDLED_CATALOG_FILE)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def load_bundled_catalog() -> NodeCatalog:
    """Return the catalog built from the bundled data (built once, then shared)."""
    catalog = NodeCatalog.from_source(BundledCatalogSource())
    logger.info("graph.catalog.loaded", extra={"node_types": len(catalog), "source": "bundled"})
    return catalog
