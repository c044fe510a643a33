from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from falflow.graph.document import CURRENT_SCHEMA_VERSION, WorkflowDocument, migrate_document
from falflow.graph.errors import DocumentFormatError, DocumentVersionError

RAW: dict[str, Any] = {
    "schema_version": 1,
    "nodes": [
        {"id": "p", "type": "util/text", "params": {"text": "hi"}, "position": {"x": 1, "y": 2}},
        {"id": "f", "type": "fal-ai/flux/dev"},
    ],
    "edges": [{"source": "p", "source_port": "text", "target": "f", "target_port": "prompt"}],
}


def test_migrate_current_version() -> None:
    document = migrate_document(RAW)

    assert document.schema_version == CURRENT_SCHEMA_VERSION
    assert [node.id for node in document.nodes] == ["p", "f"]
    assert document.nodes[0].position.x == 1.0
    assert document.nodes[1].params == {}
    assert document.edges[0].target_port == "prompt"


def test_migrate_without_version_reads_v1() -> None:
    raw = {key: value for key, value in RAW.items() if key != "schema_version"}

    assert migrate_document(raw).schema_version == 1


def test_migrate_rejects_future_version() -> None:
    with pytest.raises(DocumentVersionError) as raised:
        migrate_document({**RAW, "schema_version": 7})

    assert str(raised.value) == (
        "schema_version 7 is newer than this falflow supports (up to 1). "
        "Upgrade falflow to open this workflow."
    )


@pytest.mark.parametrize("version", ["1", 0, True, None])
def test_migrate_rejects_bad_version(version: object) -> None:
    with pytest.raises(DocumentVersionError, match="schema_version"):
        migrate_document({**RAW, "schema_version": version})


def test_migrate_reports_invalid_fields() -> None:
    raw = {**RAW, "nodes": [{"id": "a.b", "type": "util/text", "colour": "red"}]}

    with pytest.raises(DocumentFormatError) as raised:
        migrate_document(raw)

    message = str(raised.value)
    assert "nodes.0.id" in message
    assert "nodes.0.colour: Extra inputs are not permitted" in message


def test_migrate_rejects_non_object() -> None:
    with pytest.raises(DocumentFormatError, match="must be a JSON object; got list"):
        migrate_document([])  # type: ignore[arg-type]


def test_document_requires_current_version() -> None:
    with pytest.raises(ValidationError, match="migrate_document"):
        WorkflowDocument(schema_version=2)


def test_node_map_keeps_first_duplicate() -> None:
    document = WorkflowDocument.model_validate(
        {"nodes": [{"id": "a", "type": "util/text"}, {"id": "a", "type": "util/number"}]}
    )

    assert document.node_map()["a"].type == "util/text"


def test_upgrade_hook_with_patched_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Patches CURRENT_SCHEMA_VERSION to 2 and registers a stand-in upgrade, to show
    that migrate_document applies upgrades in order before validating."""
    from falflow.graph import document as document_module

    def upgrade_v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
        nodes = [
            {**item, "label": item.get("params", {}).get("caption")} for item in raw["nodes"]
        ]
        return {**raw, "nodes": nodes}

    monkeypatch.setattr(document_module, "CURRENT_SCHEMA_VERSION", 2)
    monkeypatch.setitem(document_module._UPGRADES, 1, upgrade_v1_to_v2)
    raw = {"schema_version": 1, "nodes": [{"id": "t", "type": "util/text", "params": {"caption": "Intro"}}]}

    upgraded = migrate_document(raw)

    assert upgraded.schema_version == 2
    assert upgraded.nodes[0].label == "Intro"
