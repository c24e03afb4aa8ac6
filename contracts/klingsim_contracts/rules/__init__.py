"""The rule catalogue: every rule of every provider, derived from its spec by registered rule families."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING

from klingsim.spec import ProviderSpec
from klingsim_contracts.rules.base import Drained, Layer, Need, NotExercised, Rule, RuleFailure

if TYPE_CHECKING:
    from klingsim_contracts.session import Session

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
    from klingsim_contracts.rules import access, answers, crossfield, errors, jobs, money, outputs, params
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
        jobs.job_rules,
        schema_rules,
    ):
        _BUILT_INS.append(family)
    FAMILIES[:0] = _BUILT_INS


def catalogue(spec: ProviderSpec) -> list[Rule]:
    """Every rule of one provider, ids unique, in a stable order.

    A provider with several create operations is judged per view (`klingsim_contracts.views`): each view's
    rules run with the session driving that view's create; rules the views share (auth, errors, the
    lifecycle) come from the first."""
    from klingsim_contracts.views import views

    _load()
    rules: dict[str, Rule] = {}
    for view in views(spec):
        for family in FAMILIES:
            for rule in family(view):
                if rule.id not in rules:
                    rules[rule.id] = rule if view is spec else _in_view(rule, view)
    return list(rules.values())


def _in_view(rule: Rule, view: ProviderSpec) -> Rule:
    if rule.check is None:
        return rule
    return dataclasses.replace(rule, check=partial(_checked_in, view, rule.check))


def _checked_in(view: ProviderSpec, check: Callable[[Session], None], session: Session) -> None:
    with session.viewing(view):
        check(session)


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
