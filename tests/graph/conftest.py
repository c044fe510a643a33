from __future__ import annotations

import pytest

from falflow.graph.catalog import NodeCatalog, load_bundled_catalog


@pytest.fixture(scope="session")
def catalog() -> NodeCatalog:
    return load_bundled_catalog()
