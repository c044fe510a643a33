"""The pure workflow-graph core: document, node catalog, validation, cost, scheduling.

Nothing in this package does I/O except reading the bundled catalog file once.

Layout:
    document        stored document model, size limits, schema migration
    ports           port types, connection compatibility, port paths
    specs           NodeSpec / ParamSpec / PortSpec
    pricing, sizes  price rules, credits, image sizes
    fal_specs, utility_specs, catalog
                    node catalog built from the bundled fal catalog JSON
    topology, shapes, static_values
                    graph order, cycles, batch inference, statically known values
    problems, param_checks, validation
                    whole-graph validation
    cost            estimates and actual costs
    scheduler, evaluate, cache
                    what the run engine calls
    falformat (fal_export, fal_import, fal_references)
                    fal workflow JSON import and export
    templates       curated starter workflows
"""

from __future__ import annotations

from falflow.graph.cache import cache_key
from falflow.graph.catalog import (
    BundledCatalogSource,
    CatalogSource,
    NodeCatalog,
    load_bundled_catalog,
)
from falflow.graph.cost import Estimate, NodeEstimate, actual_cost, estimate_workflow
from falflow.graph.document import (
    CURRENT_SCHEMA_VERSION,
    DEFAULT_LIMITS,
    DocumentLimits,
    Edge,
    Node,
    Position,
    WorkflowDocument,
    migrate_document,
)
from falflow.graph.errors import GraphError
from falflow.graph.evaluate import (
    PortValue,
    combine_batch_outputs,
    extract_outputs,
    resolve_inputs,
    run_utility,
)
from falflow.graph.falformat import ImportResult, export_fal_workflow, import_fal_workflow
from falflow.graph.ports import Compatibility, PortType, is_connection_compatible
from falflow.graph.problems import Problem
from falflow.graph.scheduler import ExecutionPlan
from falflow.graph.specs import NodeSpec, ParamSpec, PortSpec
from falflow.graph.templates import TEMPLATES, Template
from falflow.graph.validation import validate_workflow

__all__ = [
    "CURRENT_SCHEMA_VERSION",
    "DEFAULT_LIMITS",
    "TEMPLATES",
    "BundledCatalogSource",
    "CatalogSource",
    "Compatibility",
    "DocumentLimits",
    "Edge",
    "Estimate",
    "ExecutionPlan",
    "GraphError",
    "ImportResult",
    "Node",
    "NodeCatalog",
    "NodeEstimate",
    "NodeSpec",
    "ParamSpec",
    "PortSpec",
    "PortType",
    "PortValue",
    "Position",
    "Problem",
    "Template",
    "WorkflowDocument",
    "actual_cost",
    "cache_key",
    "combine_batch_outputs",
    "estimate_workflow",
    "export_fal_workflow",
    "extract_outputs",
    "import_fal_workflow",
    "is_connection_compatible",
    "load_bundled_catalog",
    "migrate_document",
    "resolve_inputs",
    "run_utility",
    "validate_workflow",
]
