"""The rule catalogue covers the spec: every declared rule, error, status word, price row and typed answer
field of every provider is judged by a rule that cites it, and every refusal the simulator can give names
a rule."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from klingsim.core.evaluate import constraints
from klingsim.providers import ALL
from klingsim.spec import Action, Param, ParamType, ProviderSpec, Variant
from klingsim_contracts import strategies as gen
from klingsim_contracts.rules import Rule, catalogue
from klingsim_contracts.rules.answers import declared_fields
from klingsim_contracts.rules.crossfield import UNREACHABLE, cases_for, declared
from klingsim_contracts.views import views

IDS = [spec.id for spec in ALL]


def covering(spec: ProviderSpec) -> dict[str, list[Rule]]:
    found: dict[str, list[Rule]] = {}
    for rule in catalogue(spec):
        for item in rule.covers:
            found.setdefault(item, []).append(rule)
    return found


def field_rules(variant: Variant, discriminator: str) -> Iterator[tuple[str, Param]]:
    """Every `<path>:<rule>` the engine's validation can answer for one variant's documented fields.

    Top-level fields and object properties; the discriminator is judged while choosing the variant (an
    unknown or mistyped model answers `model:enum`), so it has no type rule of its own.
    """
    for path, param in gen.walk_params(variant):
        name = ".".join(path)
        rules = ["type"] if name != discriminator else []
        if param.minimum is not None:
            rules.append("minimum")
        if param.maximum is not None:
            rules.append("maximum")
        if param.max_length is not None:
            rules.append("max_length")
        if param.max_items is not None:
            rules.append("max_items")
        if param.enum:
            rules.append("enum")
        if param.type in (ParamType.INTEGER, ParamType.NUMBER) and param.whole:
            rules.append("whole")
        if param.required and len(path) == 1 and not (name == discriminator and param.has_default):
            rules.append("required")
        for rule in rules:
            yield f"{name}:{rule}", param


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_every_rule_cites_a_page_or_says_why_it_is_inferred(spec: ProviderSpec) -> None:
    for rule in catalogue(spec):
        assert rule.doc.source, rule.id
        assert rule.doc.reason if rule.doc.inferred else (rule.doc.quote or "://" in rule.doc.source), rule.id


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_every_declared_constraint_has_a_rule_citing_it(spec: ProviderSpec) -> None:
    found = covering(spec)
    for info in constraints(spec):
        rules = found.get(info.id)
        assert rules, f"{spec.id}: no rule judges {info.id}"
        assert any(r.doc == info.doc for r in rules), f"{info.id} is judged without its citation"


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_each_constraint_rule_shows_its_constraint_as_evaluate_reads_it(spec: ProviderSpec) -> None:
    """The kit's bodies for a constraint: valid ones accepted, invalid ones broken at exactly it; every
    reachable constraint is shown on at least one model (Kling's sound rule only where sound can be on)."""
    shown, reachable = set(), set()
    for view in views(spec):
        for info in declared(view):
            cases = cases_for(view, info)
            if info.id in UNREACHABLE:
                assert not cases
                continue
            reachable.add(info.id)
            if not cases:
                continue
            assert any(not c.valid for c in cases), f"{info.id} has no invalid body"
            shown.add(info.id)
            for case in cases:
                evaluation = gen.evaluation(view, case.body)
                if case.valid:
                    assert evaluation.ok, f"{info.id} {case.note}: {evaluation.violation}"
                else:
                    assert evaluation.constraint == info.id, f"{info.id} {case.note}: {evaluation.constraint}"
                    assert case.error == evaluation.error
    assert shown == reachable, reachable - shown


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_every_field_rule_of_every_variant_has_a_rule_citing_the_param(spec: ProviderSpec) -> None:
    found = covering(spec)
    missing = []
    for view in views(spec):
        for variant in gen.variants(view):
            for item, param in field_rules(variant, gen.discriminator(view)):
                rules = [r for r in found.get(item, []) if r.doc == param.doc]
                if not rules:
                    missing.append(f"{variant.name} {item}")
    assert not missing, missing


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_every_error_status_word_and_price_row_has_a_rule(spec: ProviderSpec) -> None:
    found = covering(spec)
    for error in spec.errors:
        rules = found.get(f"error:{error.code}", [])
        assert any(r.doc == error.doc for r in rules), f"{spec.id}: no rule cites error {error.code}"
    for word in spec.lifecycle.words.values():
        assert found.get(f"status:{word}"), f"{spec.id}: status word {word!r} is judged by no rule"
    for row, rate in enumerate(spec.prices.rates):
        assert found.get(f"price:{row}"), f"{spec.id}: row {rate.label or rate.match} is never requested"


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_every_typed_answer_field_has_a_rule(spec: ProviderSpec) -> None:
    """Fields of the create and status answers declared with a unit (progress scale, times, ids, money,
    URLs) or an enum are checked by a rule; progress also by its own scale rule, ids by their shape."""
    found = covering(spec)
    fields = [
        f
        for action in (Action.CREATE, Action.STATUS, Action.RESULT, Action.CANCEL)
        for f in declared_fields(spec, action)
    ]
    assert fields
    for item in fields:
        assert found.get(item), f"{spec.id}: {item} is judged by no rule"
    ids = {rule.id for rule in catalogue(spec)}
    assert f"{spec.id.upper()}-ID-SHAPE" in ids
    progress = any(re.search(r"progress$", item) for item in fields)
    assert (f"{spec.id.upper()}-PROGRESS-SCALE" in ids) is progress


def test_the_progress_scale_rules_are_the_documented_scales() -> None:
    rules = {rule.id: rule for spec in ALL for rule in catalogue(spec)}
    assert "integer from 0 to 100" in rules["EVOLINK-PROGRESS-SCALE"].title
    assert "fraction from 0 to 1," in rules["EMPIRIOLABS-PROGRESS-SCALE"].title


@pytest.mark.parametrize("spec", ALL, ids=IDS)
def test_every_refusal_the_simulator_gives_names_a_rule(spec: ProviderSpec) -> None:
    """Each invalid body the kit generates is refused by evaluate() with a constraint id or error code that
    some rule of the catalogue covers (field rules with list indexes read as their field's rule)."""
    found = covering(spec)
    refusals = [
        (view, case.body) for view in views(spec) for *_, case in gen.boundary_cases(view) if not case.valid
    ]
    refusals += [
        (view, c.body)
        for view in views(spec)
        for info in declared(view)
        for c in cases_for(view, info)
        if not c.valid
    ]
    assert refusals
    for view, body in refusals:
        evaluation = gen.evaluation(view, body)
        assert evaluation.violation is not None, body
        constraint = evaluation.constraint
        if constraint is not None:
            assert constraint in found, f"{spec.id}: {constraint} ({evaluation.violation}) names no rule"
        assert f"error:{evaluation.error}" in found, evaluation.error
