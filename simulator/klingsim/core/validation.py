"""Validate a JSON body against a spec variant: strict on documented types, defaults applied."""

from __future__ import annotations

import math
from typing import Any

from klingsim.spec import ForbiddenWhen, Param, ParamType, RequiredWhen, Variant, Violation
from klingsim.spec.constraints import rule_broken

_JSON_TYPE = {
    ParamType.STRING: "a string",
    ParamType.INTEGER: "an integer",
    ParamType.NUMBER: "a number",
    ParamType.BOOLEAN: "a boolean",
    ParamType.ARRAY: "an array",
    ParamType.OBJECT: "an object",
}


def _fail(param: Param, path: str, detail: str, generic: str, rule: str = "type") -> Violation:
    """The Violation of one field rule; its constraint id is `<path>:<rule>` (`duration:maximum`)."""
    if rule == "type" and param.type_message:
        detail = param.type_message
    return Violation(param.error or generic, f"{path} {detail}", param=path, constraint=f"{path}:{rule}")


def _number(value: Any, param: Param, path: str, generic: str) -> int | float:
    if isinstance(value, str) and param.numeric_strings:
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise _fail(param, path, f"must be {_JSON_TYPE[param.type]}", generic) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(param, path, f"must be {_JSON_TYPE[param.type]}", generic)
    number: int | float = value
    if isinstance(number, float) and not math.isfinite(number):
        raise _fail(param, path, f"must be {_JSON_TYPE[param.type]}", generic)
    # JSON Schema's integer: any number with a zero fractional part, so 5.0 is 5 but 5.5 is refused.
    if isinstance(number, float) and (param.type is ParamType.INTEGER or param.whole):
        if not number.is_integer():
            raise _fail(param, path, "must be a whole number", generic, "whole")
        number = int(number)
    # Compare as exact numbers: a 400-digit integer must fail the range check, not overflow a float.
    if param.minimum is not None and number < param.minimum:
        raise _fail(param, path, f"must be at least {_fmt(param.minimum)}", generic, "minimum")
    if param.maximum is not None and number > param.maximum:
        raise _fail(param, path, f"must be at most {_fmt(param.maximum)}", generic, "maximum")
    return number


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def check_value(param: Param, value: Any, path: str, generic: str) -> Any:
    """The value as the engine stores it, or a Violation naming the param and the rule it breaks."""
    if value is None:
        if param.nullable:
            return None
        raise _fail(param, path, f"must be {_JSON_TYPE[param.type]}, not null", generic)
    kind = param.type
    if kind in (ParamType.INTEGER, ParamType.NUMBER):
        value = _number(value, param, path, generic)
    elif kind is ParamType.STRING:
        if not isinstance(value, str):
            raise _fail(param, path, "must be a string", generic)
        if param.min_length is not None and len(value.strip()) < param.min_length:
            raise _fail(
                param,
                path,
                "must not be empty"
                if param.min_length == 1
                else f"must be at least {param.min_length} characters",
                generic,
                "min_length",
            )
        if param.max_length is not None and len(value) > param.max_length:
            raise _fail(param, path, f"must be at most {param.max_length} characters", generic, "max_length")
    elif kind is ParamType.BOOLEAN:
        if not isinstance(value, bool):
            raise _fail(param, path, "must be a boolean (true or false)", generic)
    elif kind is ParamType.ARRAY:
        if not isinstance(value, list):
            raise _fail(param, path, "must be an array", generic)
        if param.max_items is not None and len(value) > param.max_items:
            raise _fail(param, path, f"must have at most {param.max_items} items", generic, "max_items")
        if param.items is not None:
            value = [check_value(param.items, v, f"{path}[{i}]", generic) for i, v in enumerate(value)]
    elif kind is ParamType.OBJECT:
        if not isinstance(value, dict):
            raise _fail(param, path, "must be an object", generic)
        value = check_fields(param.properties, value, generic, prefix=f"{path}.")
    if param.enum is not None and value not in param.enum:
        allowed = ", ".join(str(v) for v in param.enum)
        raise _fail(param, path, f"must be one of: {allowed}", generic, "enum")
    return value


def check_fields(
    params: tuple[Param, ...], body: dict[str, Any], generic: str, prefix: str = ""
) -> dict[str, Any]:
    """Check each documented field in order (the first broken rule wins); unknown fields are kept as sent."""
    out = dict(body)
    for param in params:
        path = prefix + param.name
        if param.name not in body:
            if param.required:
                raise _fail(param, path, "is required", generic, "required")
            if param.has_default:
                out[param.name] = param.default
            continue
        out[param.name] = check_value(param, body[param.name], path, generic)
    return out


def rule_id(rule: RequiredWhen | ForbiddenWhen) -> str:
    """A rule's id: its own, or one made of what it says (`required-when:type=*-image-to-video:image`)."""
    if rule.id:
        return rule.id
    cond = rule.when
    said = ",".join(str(v) for v in cond.values) or ",".join(f"*{s}" for s in cond.suffixes)
    kind, fields = (
        ("required-when", rule.any_of) if isinstance(rule, RequiredWhen) else ("forbidden-when", rule.fields)
    )
    return f"{kind}:{cond.field}={said}:{'|'.join(fields)}"


def validate(variant: Variant, body: dict[str, Any], generic: str) -> dict[str, Any]:
    """The body with defaults applied, or the first Violation: field rules first, then cross-field rules."""
    checked = check_fields(variant.params, body, generic)
    for rule in variant.rules:
        if not rule.applies(checked):
            continue
        broken = rule_broken(rule, checked, body)
        if broken is not None:
            message, param = broken
            raise Violation(rule.error, message, param=param, constraint=rule_id(rule))
    return checked
