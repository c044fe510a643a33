"""Import and export of fal's workflow JSON format.

fal's saved workflow is `{name, title, is_public, contents}`, where `contents` has:

* `nodes` keyed by id, each with `depends`: `run` nodes call the endpoint `app`
  with an `input` object, and `display` nodes show `fields`;
* whole-value references such as `$input.prompt` and `$node.images.0.url`;
* `schema.input`, the workflow's inputs, each with the `modelId` of its first
  consumer, and `schema.output`;
* an `output` mapping, and node positions in `metadata`.

The exporter is in `fal_export` and the importer in `fal_import`.
"""

from __future__ import annotations

from falflow.graph.fal_export import export_fal_workflow
from falflow.graph.fal_import import ImportResult, import_fal_workflow
from falflow.graph.fal_references import FAL_WORKFLOW_VERSION, FalReference, parse_reference

__all__ = [
    "FAL_WORKFLOW_VERSION",
    "FalReference",
    "ImportResult",
    "export_fal_workflow",
    "import_fal_workflow",
    "parse_reference",
]
