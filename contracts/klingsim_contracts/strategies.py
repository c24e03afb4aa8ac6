"""Requests derived from a provider's spec: valid ones, invalid ones with exactly one rule broken, and the
boundary values (min-1, min, max, max+1) that are tried before any random example.

Exported for users: `valid_requests(spec)`, `invalid_requests(spec)`, `boundary_cases(spec)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from hypothesis import strategies as st

from klingsim.core.evaluate import Evaluation, evaluate
from klingsim.spec import (
    Action,
    Endpoint,
    ErrorRole,
    ForbiddenWhen,
    Param,
    ParamType,
    ProviderSpec,
    RequiredWhen,
    Variant,
)

_FORMAT_VALUES = {
    "image-url": "https://example.com/klingsim/input.png",
    "image-url-or-base64": "https://example.com/klingsim/input.png",
    "image-url-or-raw-base64": "https://example.com/klingsim/input.png",
    "video-url": "https://example.com/klingsim/input.mp4",
    "https-url": "https://example.com/klingsim/hook",
}
_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_categories=["Cs"]))


def create_endpoint(spec: ProviderSpec) -> Endpoint:
    """The create operation the kit drives in `spec` (a provider's, or one of its views: `views.py`)."""
    return spec.endpoint(Action.CREATE)


def driven_creates(spec: ProviderSpec) -> tuple[Endpoint, ...]:
    """The create operations the kit drives: every one that queues a job (not a synchronous `wait` run)."""
    return tuple(e for e in spec.operations(Action.CREATE) if not e.wait)


def path_named(spec: ProviderSpec) -> bool:
    """Whether the create names its variant by a path segment (fal's `/{model_id:path}`)."""
    body = create_endpoint(spec).body
    return body is not None and body.discriminator_in == "path" and bool(body.discriminator)


def split(spec: ProviderSpec, body: Any) -> tuple[str, Any, dict[str, str]]:
    """A kit body as the request it stands for: (path, JSON body, path parameters).

    The kit keeps a path-named variant (fal's model id) in the body under the discriminator's name, so
    bodies stay plain dicts; here it moves into the operation's path template."""
    op = create_endpoint(spec)
    if not path_named(spec) or not isinstance(body, Mapping):
        return op.path, body, {}
    name = discriminator(spec)
    value = body.get(name)
    if not isinstance(value, str):
        return op.path, body, {}
    path = re.sub(r"\{" + re.escape(name) + r"(:path)?\}", value, op.path)
    return path, {k: v for k, v in body.items() if k != name}, {name: value}


def evaluation(spec: ProviderSpec, body: Any) -> Evaluation:
    """`core.evaluate` of a kit body sent to the create the kit drives (its path parameters split off)."""
    _, sent, path_params = split(spec, body)
    return evaluate(spec, sent, create_endpoint(spec), path_params=path_params)


def variants(spec: ProviderSpec) -> tuple[Variant, ...]:
    body = create_endpoint(spec).body
    return body.variants if body is not None else ()


def discriminator(spec: ProviderSpec) -> str:
    body = create_endpoint(spec).body
    return body.discriminator if body is not None else ""


def variant_of(spec: ProviderSpec, body: Mapping[str, Any]) -> Variant | None:
    field = discriminator(spec)
    all_variants = variants(spec)
    if not field:
        return all_variants[0] if all_variants else None
    name = body.get(field)
    if name is None:
        first = all_variants[0].param(field)
        name = first.default if first is not None and first.has_default else None
    return next((v for v in all_variants if v.name == name), None)


def generic_error(spec: ProviderSpec) -> str:
    return spec.roles[ErrorRole.VALIDATION]


def param_error(spec: ProviderSpec, variant: Variant, param: Param) -> str:
    """The error a broken `param` gets: its own code, the unknown-variant code, or the generic one."""
    if param.name == discriminator(spec):
        body = create_endpoint(spec).body
        return (body.unknown_variant_error if body else "") or param.error or generic_error(spec)
    return param.error or generic_error(spec)


# ----------------------------------------------------------------------------- single values
def valid_value(param: Param) -> Any:
    """One value the provider documents as valid for `param`."""
    if param.example is not None and repr(param.example) != "NO_DEFAULT" and _fits(param, param.example):
        return param.example
    if param.has_default and param.default is not None and _fits(param, param.default):
        return param.default
    if param.enum:
        return param.enum[0]
    kind = param.type
    if kind in (ParamType.INTEGER, ParamType.NUMBER):
        value = param.minimum if param.minimum is not None else 1
        return int(value) if kind is ParamType.INTEGER or float(value).is_integer() else value
    if kind is ParamType.BOOLEAN:
        return False
    if kind is ParamType.ARRAY:
        return [valid_value(param.items)] if param.items is not None else []
    if kind is ParamType.OBJECT:
        return {p.name: valid_value(p) for p in param.properties if p.required}
    if param.format in _FORMAT_VALUES:
        return _FORMAT_VALUES[param.format]
    text = "A cinematic shot of mountains at sunrise"
    if param.max_length is not None:
        text = text[: param.max_length]
    return text if param.min_length is None or len(text) >= param.min_length else "x" * param.min_length


def _fits(param: Param, value: Any) -> bool:
    if param.enum is not None and value not in param.enum:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        low = param.minimum if param.minimum is not None else value
        high = param.maximum if param.maximum is not None else value
        return bool(low <= value <= high)
    return True


def value_strategy(param: Param) -> st.SearchStrategy[Any]:
    """Random valid values of one param (used for the random part of acceptance checks)."""
    if param.enum:
        return st.sampled_from(param.enum)
    low, high = param.minimum, param.maximum
    if param.type is ParamType.INTEGER or (param.type is ParamType.NUMBER and param.whole):
        return st.integers(
            int(low) if low is not None else -(10**6), int(high) if high is not None else 10**6
        )
    if param.type is ParamType.NUMBER:
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if param.type is ParamType.BOOLEAN:
        return st.booleans()
    if param.type is ParamType.STRING:
        if param.format in _FORMAT_VALUES:
            return st.just(_FORMAT_VALUES[param.format])
        size = min(param.max_length or 200, 200)
        return _TEXT.filter(lambda s: bool(s.strip())).filter(lambda s: len(s) <= size)
    return st.just(valid_value(param))


# ----------------------------------------------------------------------------- whole bodies
def satisfy_rules(
    variant: Variant, body: dict[str, Any], value: Callable[[Param], Any] | None = None
) -> dict[str, Any]:
    """`body` with what the variant's rules require added (a `value` of the field, `valid_value` unless
    given) and what they forbid removed."""
    value_of = value or valid_value
    for rule in variant.rules:
        if not rule.when.holds(body):
            continue
        if isinstance(rule, RequiredWhen) and not any(body.get(f) not in (None, "", []) for f in rule.any_of):
            param = variant.param(rule.any_of[0])
            body[rule.any_of[0]] = value_of(param) if param is not None else "x"
        if isinstance(rule, ForbiddenWhen):
            for name in rule.fields:
                body.pop(name, None)
    return body


def valid_body(
    spec: ProviderSpec, variant: Variant, fixed: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The smallest valid body of `variant`: required fields, `fixed` overrides, fields rules require."""
    body: dict[str, Any] = {}
    field = discriminator(spec)
    if field:
        body[field] = variant.name
    for param in variant.params:
        if param.required and param.name not in body:
            body[param.name] = valid_value(param)
    body.update(fixed or {})
    body = satisfy_rules(variant, body)
    # A declared constraint may require a field no Param marks required (EvoLink's prompt, required unless
    # multi-shot): the field evaluate() names as missing is added, so the body is valid by all the rules.
    for _ in range(3):
        violation = evaluation(spec, body).violation
        missing = violation.param if violation is not None else None
        needed = variant.param(missing) if missing else None
        if needed is None or needed.name in body:
            break
        body[needed.name] = valid_value(needed)
    return body


def _rule_fields(variant: Variant) -> list[Param]:
    names = {r.when.field for r in variant.rules}
    return [p for p in variant.params if p.name in names and p.enum]


# Derived once per spec object (Kling's three views have hundreds of fields to probe): id -> (spec, value).
_MEMO: dict[tuple[str, int], tuple[ProviderSpec, Any]] = {}


def _memo(kind: str, spec: ProviderSpec, build: Any) -> Any:
    key = (kind, id(spec))
    found = _MEMO.get(key)
    if found is None or found[0] is not spec:
        if len(_MEMO) > 256:
            _MEMO.clear()
        found = _MEMO[key] = (spec, build(spec))
    return found[1]


def base_bodies(spec: ProviderSpec) -> list[dict[str, Any]]:
    """One valid body per variant and per value of each enum that switches a cross-field rule."""
    return [dict(b) for b in _memo("bases", spec, _base_bodies)]


def _base_bodies(spec: ProviderSpec) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for variant in variants(spec):
        bodies.append(valid_body(spec, variant))
        for param in _rule_fields(variant):
            for value in param.enum or ():
                body = valid_body(spec, variant, {param.name: value})
                # A switch a declared constraint still refuses (Kling's one default shot against a 5 s
                # duration) is no base to build on; the constraint's own rule shows it.
                if evaluation(spec, body).ok:
                    bodies.append(body)
    unique: dict[str, dict[str, Any]] = {repr(sorted(b.items(), key=lambda kv: kv[0])): b for b in bodies}
    return list(unique.values())


def defaulted(spec: ProviderSpec, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The body as the provider reads it (normalised, defaults applied), None when the provider refuses it."""
    return evaluation(spec, dict(body)).request


def price_of(spec: ProviderSpec, body: Mapping[str, Any]) -> Decimal | None:
    """What the provider's price table charges for a body (None when the provider refuses it)."""
    return evaluation(spec, dict(body)).price


def cheapest(spec: ProviderSpec, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    priced = [(price_of(spec, b), i) for i, b in enumerate(bodies)]
    known = [(p, i) for p, i in priced if p is not None]
    return bodies[min(known)[1]] if known else bodies[0]


def keeps(spec: ProviderSpec, body: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether the provider reads the field at `path` as sent (kling3api drops edit durations): true when it
    refuses the body (still a refusal), or accepts it with the sent value in place."""
    request = evaluation(spec, dict(body)).request
    return request is None or _kept(_get(body, path), _get(request, path))


def _kept(sent: Any, read: Any) -> bool:
    """`sent` survives in `read`; objects may gain defaults of their own fields."""
    if isinstance(sent, Mapping):
        return isinstance(read, Mapping) and all(k in read and _kept(v, read[k]) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(read, list) and len(sent) == len(read) and all(map(_kept, sent, read))
    return bool(sent == read)


def _get(body: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = body
    for key in path:
        if not isinstance(cur, Mapping) or key not in cur:
            return None
        cur = cur[key]
    return cur


def with_value(body: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of `body` with the field at `path` set (intermediate objects created)."""
    out = dict(body)
    if len(path) == 1:
        out[path[0]] = value
        return out
    child = out.get(path[0])
    out[path[0]] = with_value(child if isinstance(child, Mapping) else {}, path[1:], value)
    return out


def without(body: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    out = dict(body)
    if len(path) == 1:
        out.pop(path[0], None)
    elif isinstance(out.get(path[0]), Mapping):
        out[path[0]] = without(out[path[0]], path[1:])
    return out


def base_for(spec: ProviderSpec, variant: Variant, path: tuple[str, ...]) -> dict[str, Any] | None:
    """The cheapest valid body of `variant` whose normalisation keeps the field at `path`."""
    field = discriminator(spec)
    bodies = [b for b in base_bodies(spec) if not field or b.get(field) == variant.name]
    fit = [b for b in bodies if keeps(spec, with_value(b, path, _probe(variant, path)), path)]
    return cheapest(spec, fit) if fit else None


def _probe(variant: Variant, path: tuple[str, ...]) -> Any:
    param = param_at(variant, path)
    return valid_value(param) if param is not None else "x"


def param_at(variant: Variant, path: tuple[str, ...]) -> Param | None:
    param: Param | None = variant.param(path[0])
    for name in path[1:]:
        param = param.property(name) if param is not None else None
    return param


def walk_params(variant: Variant) -> Iterator[tuple[tuple[str, ...], Param]]:
    """Every documented field of a variant with its path (object properties one level down)."""
    for param in variant.params:
        yield (param.name,), param
        for prop in param.properties:
            yield (param.name, prop.name), prop


# ----------------------------------------------------------------------------- boundaries
@dataclass(frozen=True)
class Case:
    """One request body and whether the provider documents it as valid; `error` is the code if not."""

    body: dict[str, Any]
    valid: bool
    error: str = ""
    note: str = ""


def _step(param: Param) -> float:
    if param.type is ParamType.INTEGER or param.whole:
        return 1
    span = (param.maximum or 0) - (param.minimum or 0)
    return 1 if span > 10 else 0.1


def range_values(param: Param) -> list[tuple[Any, bool]]:
    """min-1, min, max, max+1 (only the ends the param has)."""
    out: list[tuple[Any, bool]] = []
    step = _step(param)

    def num(x: float) -> Any:
        return int(x) if step == 1 and float(x).is_integer() else round(x, 6)

    if param.minimum is not None:
        out += [(num(param.minimum - step), False), (num(param.minimum), True)]
    if param.maximum is not None:
        out += [(num(param.maximum), True), (num(param.maximum + step), False)]
    return out


def length_values(param: Param) -> list[tuple[Any, bool]]:
    out: list[tuple[Any, bool]] = []
    if param.min_length is not None and param.min_length >= 1:
        out += [("", False), (" " * max(param.min_length, 1), False)]
    if param.max_length is not None:
        out += [(_sized(param, param.max_length), True), (_sized(param, param.max_length + 1), False)]
    return out


def _sized(param: Param, size: int) -> str:
    """A string of exactly `size` characters, shaped like the field's format (a URL stays a URL)."""
    head = _FORMAT_VALUES.get(param.format, "")
    head = head.rsplit("/", 1)[0] + "/" if head else ""
    return (head + "a" * max(size - len(head), 0))[:size]


def items_values(param: Param) -> list[tuple[Any, bool]]:
    if param.max_items is None:
        return []
    item = valid_value(param.items) if param.items is not None else "x"
    return [([item] * param.max_items, True), ([item] * (param.max_items + 1), False)]


def enum_values(param: Param) -> list[tuple[Any, bool]]:
    """Every documented value, then near misses: other case, padded, and an unknown value."""
    assert param.enum is not None
    out: list[tuple[Any, bool]] = [(v, True) for v in param.enum]
    strings = [v for v in param.enum if isinstance(v, str)]
    for v in strings[:3]:
        for variant in (v.upper(), v.lower(), v.title(), f" {v}"):
            if variant not in param.enum:
                out.append((variant, False))
    for pattern, neighbours in _NEIGHBOURS:
        if any(re.fullmatch(pattern, v) for v in strings):
            out += [(n, False) for n in neighbours if n not in param.enum]
    out.append(("klingsim-unknown-value", False))
    return out


# Values a user could plausibly send that sit next to a documented enum of that shape (a 4:3 where the
# provider documents 16:9, 9:16 and 1:1): random text would almost never find them.
_NEIGHBOURS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\d+:\d+", ("4:3", "3:4", "21:9", "3:2", "2:3", "4:5")),
    (r"\d+p", ("480p", "540p", "1440p", "2160p", "4k")),
    (r"(?i)(std|standard|pro|4k|turbo)", ("std", "standard", "pro", "master", "turbo", "4k", "lite")),
)


def type_values(param: Param) -> list[tuple[Any, bool]]:
    """Values of the wrong JSON type (strict providers refuse `"5"` for an integer, `"true"` for a bool)."""
    if param.type is ParamType.INTEGER or (param.type is ParamType.NUMBER and param.whole):
        base = int(param.minimum) if param.minimum is not None else 5
        wrong: list[Any] = [base + 0.5, True]
        return [(v, False) for v in ([] if param.numeric_strings else [str(base)]) + wrong]
    if param.type is ParamType.NUMBER:
        return [(v, False) for v in ([] if param.numeric_strings else ["0.5"]) + [True]]
    if param.type is ParamType.BOOLEAN:
        return [("true", False), (1, False)]
    if param.type is ParamType.STRING:
        return [(123, False), (["x"], False)]
    if param.type is ParamType.ARRAY:
        return [("x", False), ({"a": 1}, False)]
    if param.type is ParamType.OBJECT:
        return [("x", False), ([1], False)]
    return []


def boundary_cases(spec: ProviderSpec) -> Iterator[tuple[str, Variant, tuple[str, ...], str, Case]]:
    """(kind, variant, path, error, case) for every range, length, items, enum and type boundary."""
    yield from _memo("boundaries", spec, lambda s: list(_boundary_cases(s)))


def _boundary_cases(spec: ProviderSpec) -> Iterator[tuple[str, Variant, tuple[str, ...], str, Case]]:
    for variant in variants(spec):
        for path, param in walk_params(variant):
            base = base_for(spec, variant, path)
            if base is None:
                continue
            error = param_error(spec, variant, param)
            families = (
                ("RANGE", range_values(param)),
                ("LENGTH", length_values(param)),
                ("ITEMS", items_values(param)),
                ("ENUM", enum_values(param) if param.enum else []),
                ("TYPE", type_values(param)),
            )
            for kind, values in families:
                for value, valid in values:
                    if valid:
                        body = with_value(satisfy_rules(variant, with_value(base, path, value)), path, value)
                        if not evaluation(spec, body).ok:
                            continue  # the provider refuses it for another of its rules
                    else:
                        body = with_value(base, path, value)
                        if not keeps(spec, body, path):
                            continue  # the provider's normalisation documents accepting this form
                    yield kind, variant, path, error, Case(body, valid, "" if valid else error, repr(value))


# ----------------------------------------------------------------------------- Hypothesis strategies
def out_of_range(param: Param) -> st.SearchStrategy[Any]:
    """Random values beyond the documented range (shrinking towards max+1 or min-1)."""
    step = _step(param)
    parts: list[st.SearchStrategy[Any]] = []
    whole = param.type is ParamType.INTEGER or param.whole
    if param.maximum is not None:
        top = param.maximum + step
        parts.append(
            st.integers(int(top), 10**9)
            if whole
            else st.floats(top, 1e9, allow_nan=False, allow_infinity=False)
        )
    if param.minimum is not None:
        bottom = param.minimum - step
        parts.append(
            st.integers(-(10**9), int(bottom))
            if whole
            else st.floats(-1e9, bottom, allow_nan=False, allow_infinity=False)
        )
    return st.one_of(parts) if parts else st.nothing()


def too_long(param: Param) -> st.SearchStrategy[str]:
    if param.max_length is None:
        return st.nothing()
    limit = param.max_length
    return st.integers(limit + 1, limit * 2 + 8).map(lambda n: _sized(param, n))


def not_in_enum(param: Param) -> st.SearchStrategy[Any]:
    if not param.enum:
        return st.nothing()
    documented = set(param.enum)
    return _TEXT.filter(lambda s: s not in documented)


def valid_requests(spec: ProviderSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Valid create bodies: a base body with a random subset of optional fields set to valid values."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        base = draw(st.sampled_from(base_bodies(spec)))
        variant = variant_of(spec, base)
        assert variant is not None
        body = dict(base)
        locked = {r.when.field for r in variant.rules} | {discriminator(spec)}
        for param in variant.params:
            if param.name in locked or param.type in (ParamType.OBJECT, ParamType.ARRAY):
                continue
            if param.format or not (
                param.enum or param.minimum is not None or param.type is ParamType.BOOLEAN
            ):
                continue
            if draw(st.booleans()):
                body[param.name] = draw(value_strategy(param))
        return satisfy_rules(variant, body)

    return build()


@dataclass(frozen=True)
class Invalid:
    """A request with exactly one documented rule broken: `kind` and `path` name the rule."""

    kind: str
    variant: str
    path: tuple[str, ...]
    body: dict[str, Any]
    error: str


def _invalid(
    kind: str, variant: str, path: tuple[str, ...], base: dict[str, Any], error: str, value: Any
) -> Invalid:
    return Invalid(kind, variant, path, with_value(base, path, value), error)


def invalid_requests(spec: ProviderSpec) -> st.SearchStrategy[Invalid]:
    """Invalid create bodies, one broken rule each (range, length, enum, required, cross-field)."""
    options: list[st.SearchStrategy[Invalid]] = []
    for variant in variants(spec):
        for path, param in walk_params(variant):
            base = base_for(spec, variant, path)
            if base is None:
                continue
            error = param_error(spec, variant, param)
            for kind, values in (
                ("RANGE", out_of_range(param)),
                ("LENGTH", too_long(param)),
                ("ENUM", not_in_enum(param)),
            ):
                if param.type is ParamType.STRING and kind == "RANGE":
                    continue
                if kind == "ENUM" and not param.enum:
                    continue
                if kind == "LENGTH" and param.max_length is None:
                    continue
                if kind == "RANGE" and param.minimum is None and param.maximum is None:
                    continue
                options.append(values.map(partial(_invalid, kind, variant.name, path, base, error)))
    return st.one_of(options) if options else st.nothing()


def rule_id(spec: ProviderSpec, variant: Variant | None, path: tuple[str, ...], kind: str) -> str:
    """`KLING3API-DURATION-RANGE`; the variant joins the id when the endpoint has several."""
    parts = [spec.id]
    if len(driven_creates(spec)) > 1:  # Kling's text2video, image2video, omni-video
        parts.append(create_endpoint(spec).op_id)
    if variant is not None and len(variants(spec)) > 1:
        parts.append(variant.name)
    parts += [*path, kind]
    return "-".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-").upper() for p in parts)
