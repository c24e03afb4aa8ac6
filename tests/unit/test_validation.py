from __future__ import annotations

from typing import Any

import pytest

from klingsim.core.validation import check_value, validate
from klingsim.spec import ForbiddenWhen, Param, ParamType, RequiredWhen, Variant, Violation, When, inferred

DOC = inferred("test")


def check(param: Param, value: Any) -> Any:
    return check_value(param, value, param.name, "GENERIC")


@pytest.mark.parametrize("value", ["5", 5.5, True, None, [], float("inf")])
def test_integers_are_strict(value: Any) -> None:
    with pytest.raises(Violation):
        check(Param("n", ParamType.INTEGER, DOC), value)


def test_whole_floats_count_as_integers_like_json_schema() -> None:
    assert check(Param("n", ParamType.INTEGER, DOC), 5.0) == 5
    assert isinstance(check(Param("n", ParamType.INTEGER, DOC), 5.0), int)


def test_numeric_strings_only_where_the_provider_is_lenient() -> None:
    lenient = Param("d", ParamType.NUMBER, DOC, numeric_strings=True, whole=True, minimum=3, maximum=15)
    assert check(lenient, "7") == 7
    for bad in ("7.5", "seven", "16"):
        with pytest.raises(Violation):
            check(lenient, bad)


def test_violations_carry_the_params_error_code_and_path() -> None:
    param = Param("d", ParamType.INTEGER, DOC, minimum=3, error="BAD_D")
    with pytest.raises(Violation) as caught:
        check(param, 2)
    assert caught.value.code == "BAD_D" and caught.value.param == "d" and "at least 3" in caught.value.message
    with pytest.raises(Violation) as generic:
        check(Param("e", ParamType.STRING, DOC, enum=("a",)), "A")
    assert generic.value.code == "GENERIC"


def test_nested_objects_and_arrays_are_checked_with_paths() -> None:
    item = Param(
        "shot", ParamType.OBJECT, DOC, properties=(Param("index", ParamType.INTEGER, DOC, required=True),)
    )
    shots = Param("shots", ParamType.ARRAY, DOC, max_items=2, items=item)
    assert check(shots, [{"index": 1}, {"index": 2.0}]) == [{"index": 1}, {"index": 2}]
    with pytest.raises(Violation) as caught:
        check(shots, [{"index": 1}, {}])
    assert caught.value.param == "shots[1].index"
    with pytest.raises(Violation):
        check(shots, [{"index": 1}] * 3)


def test_defaults_rules_and_unknown_fields() -> None:
    variant = Variant(
        "v",
        (
            Param("kind", ParamType.STRING, DOC, required=True),
            Param("image", ParamType.STRING, DOC),
            Param("n", ParamType.INTEGER, DOC, default=5),
        ),
        DOC,
        rules=(
            RequiredWhen(("image",), When("kind", suffixes=("-i2v",)), "MISSING", DOC),
            ForbiddenWhen(("image",), When("kind", values=("t2v",)), "NOPE", DOC),
        ),
    )
    assert validate(variant, {"kind": "x", "extra": 1}, "G") == {"kind": "x", "extra": 1, "n": 5}
    with pytest.raises(Violation) as missing:
        validate(variant, {"kind": "pro-i2v"}, "G")
    assert missing.value.code == "MISSING"
    with pytest.raises(Violation) as forbidden:
        validate(variant, {"kind": "t2v", "image": "u"}, "G")
    assert forbidden.value.code == "NOPE"
