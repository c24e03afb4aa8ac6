"""Rules on request fields: ranges, lengths, list limits, enums, types, required and cross-field rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from functools import partial

from hypothesis import strategies as st

from klingsim.core.validation import rule_id as constraint_id
from klingsim.spec import ForbiddenWhen, Param, ProviderSpec, RequiredWhen, Variant
from klingsim_contracts import strategies as gen
from klingsim_contracts.properties import run_cases, run_examples
from klingsim_contracts.rules.base import Layer, Rule
from klingsim_contracts.session import Session
from klingsim_contracts.strategies import Case

# The engine's field-rule names (`duration:maximum`) each kit kind judges.
_COVERS = {
    "RANGE": ("minimum", "maximum"),
    "LENGTH": ("min_length", "max_length"),
    "ITEMS": ("max_items",),
    "ENUM": ("enum",),
    "TYPE": ("type", "whole"),
}

_TITLES = {
    "RANGE": "{name} outside {low}..{high} is refused with {error}; the ends are accepted",
    "LENGTH": "{name} longer than {max_length} characters (or blank) is refused with {error}",
    "ITEMS": "{name} with more than {max_items} items is refused with {error}",
    "ENUM": "{name} accepts exactly its documented values (case-sensitive), refusing others with {error}",
    "TYPE": "{name} of the wrong JSON type is refused with {error} (no coercion)",
}


def _random(kind: str, param: Param) -> st.SearchStrategy[object] | None:
    if kind == "RANGE" and (param.minimum is not None or param.maximum is not None):
        return gen.out_of_range(param)
    if kind == "LENGTH" and param.max_length is not None:
        return gen.too_long(param)
    if kind == "ENUM" and param.enum:
        return gen.not_in_enum(param)
    return None


def _check_field(
    spec: ProviderSpec,
    variant: Variant,
    path: tuple[str, ...],
    kind: str,
    cases: list[Case],
    rule_id: str,
    session: Session,
) -> None:
    run_cases(session, rule_id, cases)
    param = gen.param_at(variant, path)
    strategy = _random(kind, param) if param is not None else None
    base = gen.base_for(spec, variant, path)
    if strategy is None or base is None:
        return
    error = gen.param_error(spec, variant, param) if param is not None else ""

    def check(value: object) -> None:
        session.reject(gen.with_value(base, path, value), error, rule_id, f"value {value!r}")

    run_examples(session, rule_id, strategy, check)


def field_rules(spec: ProviderSpec) -> Iterator[Rule]:
    grouped: dict[tuple[str, tuple[str, ...], str], list[Case]] = defaultdict(list)
    owners: dict[tuple[str, tuple[str, ...], str], tuple[Variant, str]] = {}
    for kind, variant, path, error, case in gen.boundary_cases(spec):
        key = (variant.name, path, kind)
        grouped[key].append(case)
        owners[key] = (variant, error)
    for (_, path, kind), cases in grouped.items():
        variant, error = owners[(_, path, kind)]
        param = gen.param_at(variant, path)
        assert param is not None
        rule_id = gen.rule_id(spec, variant, path, kind)
        title = _TITLES[kind].format(
            name=".".join(path),
            low=param.minimum,
            high=param.maximum,
            error=error,
            max_length=param.max_length,
            max_items=param.max_items,
        )
        doc = param.doc
        yield Rule(
            rule_id,
            spec.id,
            title,
            doc,
            Layer.PROPERTY,
            partial(_check_field, spec, variant, path, kind, cases, rule_id),
            covers=frozenset(f"{'.'.join(path)}:{name}" for name in _COVERS[kind]),
        )


def _check_required(
    spec: ProviderSpec, variant: Variant, param: Param, rule_id: str, session: Session
) -> None:
    base = gen.cheapest(spec, [b for b in gen.base_bodies(spec) if gen.variant_of(spec, b) == variant])
    error = gen.param_error(spec, variant, param)
    if param.name == gen.discriminator(spec):
        error = gen.generic_error(spec)
    session.reject(gen.without(base, (param.name,)), error, rule_id, f"without {param.name}")


def _check_cross(
    spec: ProviderSpec, variant: Variant, rule: RequiredWhen | ForbiddenWhen, rule_id: str, session: Session
) -> None:
    bodies = [b for b in gen.base_bodies(spec) if gen.variant_of(spec, b) == variant and rule.when.holds(b)]
    if not bodies:
        return
    base = gen.cheapest(spec, bodies)
    if isinstance(rule, RequiredWhen):
        body = dict(base)
        for name in rule.any_of:
            body.pop(name, None)
        session.reject(body, rule.error, rule_id, f"without any of {', '.join(rule.any_of)}")
        return
    for name in rule.fields:
        param = variant.param(name)
        body = {**base, name: gen.valid_value(param) if param is not None else "x"}
        session.reject(body, rule.error, rule_id, f"with {name}")


def presence_rules(spec: ProviderSpec) -> Iterator[Rule]:
    for variant in gen.variants(spec):
        for param in variant.params:
            if not param.required:
                continue
            if param.name == gen.discriminator(spec) and param.has_default:
                continue
            rule_id = gen.rule_id(spec, variant, (param.name,), "REQUIRED")
            yield Rule(
                rule_id,
                spec.id,
                f"a request without {param.name} is refused",
                param.doc,
                Layer.PROPERTY,
                partial(_check_required, spec, variant, param, rule_id),
                covers=frozenset({f"{param.name}:required"}),
            )
        for rule in variant.rules:
            fields = rule.any_of if isinstance(rule, RequiredWhen) else rule.fields
            verb = "REQUIRE" if isinstance(rule, RequiredWhen) else "FORBID"
            rule_id = gen.rule_id(spec, variant, ("-OR-".join(fields),), f"{verb}-WHEN-{rule.when.field}")
            cond = ", ".join(map(str, rule.when.values or rule.when.suffixes))
            title = (
                f"{' or '.join(fields)} {'required' if verb == 'REQUIRE' else 'forbidden'} when "
                f"{rule.when.field} is {cond} ({rule.error})"
            )
            yield Rule(
                rule_id,
                spec.id,
                title,
                rule.doc,
                Layer.PROPERTY,
                partial(_check_cross, spec, variant, rule, rule_id),
                covers=frozenset({constraint_id(rule)}),
            )
