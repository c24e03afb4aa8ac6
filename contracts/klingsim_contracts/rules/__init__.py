"""The rule catalogue: every rule of every provider, derived from its spec by registered rule families."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from klingsim.spec import ProviderSpec
from klingsim_contracts.rules.base import Drained, Layer, Need, NotExercised, Rule, RuleFailure

Family = Callable[[ProviderSpec], Iterable[Rule]]
FAMILIES: list[Family] = []
_BUILT_INS: list[Family] = []


def register(family: Family) -> Family:
    """Add a rule family (a function from a spec to its rules) to the catalogue, beside the built-in ones
    (registering before they load adds to them too: they always come first)."""
    FAMILIES.append(family)
    return family


def _load() -> None:
    if _BUILT_INS:
        return
    from klingsim_contracts.rules import access, answers, crossfield, errors, money, outputs, params
    from klingsim_contracts.schemathesis_layer import schema_rules

    for family in (
        params.field_rules,
        params.presence_rules,
        crossfield.crossfield_rules,
        access.access_rules,
        errors.error_rules,
        errors.passive_rules,
        money.money_rules,
        outputs.output_rules,
        outputs.lifecycle_rules,
        answers.answer_rules,
        schema_rules,
    ):
        _BUILT_INS.append(family)
    FAMILIES[:0] = _BUILT_INS


def catalogue(spec: ProviderSpec) -> list[Rule]:
    """Every rule of one provider, ids unique, in a stable order."""
    _load()
    rules: dict[str, Rule] = {}
    for family in FAMILIES:
        for rule in family(spec):
            rules.setdefault(rule.id, rule)
    return list(rules.values())


def all_rules() -> list[Rule]:
    from klingsim.providers import ALL

    return [rule for spec in ALL for rule in catalogue(spec)]


__all__ = [
    "FAMILIES",
    "Drained",
    "Layer",
    "Need",
    "NotExercised",
    "Rule",
    "RuleFailure",
    "all_rules",
    "catalogue",
    "register",
]
