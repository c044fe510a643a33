"""Decoding of Stripe's form-encoded request parameters (`a[b][0][c]=v`) into nested data."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


class FormDecodeError(ValueError):
    """A parameter name whose brackets cannot be turned into nested data."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid parameter name '{key}': {reason}")
        self.key = key


def _split_key(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not head:
        raise FormDecodeError(key, "it starts with a bracket")
    if not bracket:
        return [head]
    tail = "[" + rest
    parts = _KEY_PART.findall(tail)
    if "".join(f"[{part}]" for part in parts) != tail or any(part == "" for part in parts):
        raise FormDecodeError(key, "use name[sub][0] with a name or an index in every bracket")
    return [head, *parts]


def _to_lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _to_lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Build nested dicts and lists from Stripe-style parameter names; values stay strings."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormDecodeError(key, f"'{part}' is given both as a value and as a group")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise FormDecodeError(key, f"'{parts[-1]}' is given both as a value and as a group")
        node[parts[-1]] = value
    result = _to_lists(root)
    if not isinstance(result, dict):
        raise FormDecodeError(next(iter(root), ""), "top-level parameter names must not be bare indexes")
    return result
