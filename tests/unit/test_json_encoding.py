"""Answers are written byte for byte as `json.dumps(..., separators=(",", ":"), ensure_ascii=False)` would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from klingsim.core.http import Response, encode_json


def reference(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers() | finite | st.text()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_any_json_value_is_written_as_json_dumps_writes_it(value: Any) -> None:
    assert encode_json(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {"small": 1e-05, "tiny": 1.234e-07, "edge": 0.0001, "big": 1e16, "bigger": 1.5e300, "neg": -2e-9},
        {"control": "\x00\x1f\x7f\n\t\u2028", "accents": "é漢字🎬"},
        {7: "int key", 2.5: "float key", None: "null key", True: "bool key"},
        [2**64, -(2**70)],
        ("a", "tuple"),
        {"id": "n7539e4ab0012", "text": "a:1e5 inside a string"},
        {"quoted": 'a "quoted" 1e-05 and a \\', "small": 1e-05},  # escapes: strings are not cut out
        {"text": "0.00001 and 2e9 in a string", "small": 3.5e-06, "big": [2e16]},
    ],
)
def test_floats_keys_and_integers_orjson_writes_differently_take_the_reference_path(value: Any) -> None:
    assert encode_json(value) == reference(value)


def test_what_json_refuses_is_still_refused() -> None:
    with pytest.raises(TypeError):
        Response(200, {"when": object()}).encoded()


def test_bytes_bodies_are_sent_as_they_are() -> None:
    assert Response(200, b"\x00raw").encoded() == b"\x00raw"
