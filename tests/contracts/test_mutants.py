"""Proof of power: every mutant gateway is caught by the rule it breaks, in a full run of the suite."""

from __future__ import annotations

import pytest

from tests.contracts.mutants import MUTANTS, UPSTREAM_MUTANTS, Mutant
from tests.contracts.support import run_in_process


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught_by_the_rule_it_breaks(mutant: Mutant) -> None:
    report = run_in_process(mutant.build(), mutant.provider, max_examples=10)
    assert mutant.rule in report.failed_ids(), report.text()
    failure = report.result(mutant.rule).failure
    assert failure is not None and failure.exchanges, "a failure carries the requests that show it"


def test_the_catalogue_has_at_least_25_mutants_each_naming_a_catalogued_rule() -> None:
    from klingsim.providers import by_id
    from klingsim_contracts.rules import catalogue

    assert len(MUTANTS) >= 25
    for mutant in MUTANTS:
        assert mutant.rule in {r.id for r in catalogue(by_id(mutant.provider))}, mutant.name


@pytest.mark.parametrize("mutant", UPSTREAM_MUTANTS, ids=[m.name for m in UPSTREAM_MUTANTS])
def test_upstream_mutant_is_caught_by_the_rule_it_breaks(mutant: Mutant) -> None:
    """The official Kling API and fal: each mutant in a run of the rule it breaks (and the rules that
    provoke what a passive rule judges), so the suite stays quick; the full catalogue passes a faithful
    gateway in test_gateway_self."""
    rules = (mutant.rule, *mutant.focus)
    report = run_in_process(mutant.build(), mutant.provider, max_examples=5, rules=rules)
    assert mutant.rule in report.failed_ids(), report.text()
    failure = report.result(mutant.rule).failure
    assert failure is not None and failure.exchanges, "a failure carries the requests that show it"


def test_each_upstream_provider_has_at_least_four_mutants() -> None:
    from klingsim.providers import by_id
    from klingsim_contracts.rules import catalogue

    for provider in ("kling", "fal"):
        mine = [m for m in UPSTREAM_MUTANTS if m.provider == provider]
        assert len(mine) >= 4, provider
        ids = {r.id for r in catalogue(by_id(provider))}
        assert all(m.rule in ids and set(m.focus) <= ids for m in mine)
