from __future__ import annotations

import pytest

from falflow.graph.ports import (
    Compatibility,
    PortPath,
    PortType,
    ValueKind,
    compatibility_table,
    is_connection_compatible,
    select_port_type,
)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("text", "text", Compatibility(ok=True)),
        ("image", "image", Compatibility(ok=True)),
        ("integer", "number", Compatibility(ok=True)),
        ("enum", "text", Compatibility(ok=True)),
        ("image", "list[image]", Compatibility(ok=True)),
        ("list[image]", "list[image]", Compatibility(ok=True)),
        ("list[image]", "image", Compatibility(ok=True, batch=True)),
        ("list[text]", "text", Compatibility(ok=True, batch=True)),
        ("list[integer]", "number", Compatibility(ok=True, batch=True)),
        ("list[image]", "any", Compatibility(ok=True)),
        ("video", "json", Compatibility(ok=True)),
    ],
)
def test_compatible_connections(source: str, target: str, expected: Compatibility) -> None:
    assert is_connection_compatible(source, target) == expected


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("number", "integer"),
        ("text", "enum"),
        ("text", "image"),
        ("image", "video"),
        ("list[image]", "text"),
        ("audio", "list[image]"),
        ("boolean", "number"),
    ],
)
def test_incompatible_connections(source: str, target: str) -> None:
    compatibility = is_connection_compatible(source, target)

    assert compatibility.ok is False
    assert compatibility.batch is False
    assert compatibility.reason == f"a {source} output cannot feed a {target} input"


def test_port_type_parse_round_trip() -> None:
    assert PortType.parse("list[video]") == PortType(ValueKind.VIDEO, is_list=True)
    assert str(PortType.parse("list[video]")) == "list[video]"
    assert str(PortType.parse("integer")) == "integer"


@pytest.mark.parametrize("text", ["picture", "list[any]", "list[list[text]]", ""])
def test_port_type_parse_rejects_unknown(text: str) -> None:
    with pytest.raises(ValueError, match=r"not supported|Unknown port type"):
        PortType.parse(text)


def test_compatibility_table_matches_function() -> None:
    table = compatibility_table()

    assert table["list[image]"]["image"] == {"ok": True, "batch": True}
    assert table["integer"]["number"] == {"ok": True, "batch": False}
    assert table["number"]["integer"] == {"ok": False, "batch": False}
    assert "any" not in table  # No output has type `any`.
    for source, row in table.items():
        for target, cell in row.items():
            result = is_connection_compatible(source, target)
            assert cell == {"ok": result.ok, "batch": result.batch}


def test_port_path_parse_and_select() -> None:
    path = PortPath.parse("images.0")

    assert path == PortPath(port="images", steps=(0,))
    assert str(path) == "images.0"
    assert select_port_type(PortType.parse("list[image]"), path.steps) == PortType(ValueKind.IMAGE)
    assert select_port_type(PortType.parse("image"), (0,)) is None
    assert select_port_type(PortType.parse("json"), ("usage", "tokens")) == PortType(ValueKind.JSON)
