from __future__ import annotations

import pytest

from falflow.sandbox.stripe.forms import FormDecodeError, decode_form


def test_decode_nested_lists_and_maps() -> None:
    pairs = [
        ("mode", "payment"),
        ("line_items[0][quantity]", "1"),
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[1][quantity]", "2"),
        ("metadata[purchase_id]", "p"),
        ("expand[0]", "payment_intent"),
    ]
    assert decode_form(pairs) == {
        "mode": "payment",
        "line_items": [{"quantity": "1", "price_data": {"currency": "usd"}}, {"quantity": "2"}],
        "metadata": {"purchase_id": "p"},
        "expand": ["payment_intent"],
    }


def test_decode_orders_indexes_numerically() -> None:
    pairs = [(f"expand[{index}]", str(index)) for index in (10, 2, 1)]
    assert decode_form(pairs) == {"expand": ["1", "2", "10"]}


@pytest.mark.parametrize("key", ["[a]", "a[]", "a[b", "a[b]c"])
def test_decode_rejects_malformed_keys(key: str) -> None:
    with pytest.raises(FormDecodeError) as caught:
        decode_form([(key, "v")])
    assert caught.value.key == key


def test_decode_rejects_value_and_group_clash() -> None:
    with pytest.raises(FormDecodeError):
        decode_form([("metadata", "x"), ("metadata[a]", "y")])
    with pytest.raises(FormDecodeError):
        decode_form([("metadata[a]", "y"), ("metadata", "x")])
