"""Property checks per rule: the explicit boundary examples first, then Hypothesis' random ones, shrunk."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, reporting, seed, settings
from hypothesis import Phase as HPhase
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure

from klingsim_contracts.rules.base import RuleFailure
from klingsim_contracts.session import Session, Unaffordable
from klingsim_contracts.strategies import Case

T = TypeVar("T")


def run_cases(session: Session, rule_id: str, cases: Iterable[Case]) -> int:
    """Each explicit case in order; the first departure fails the rule (they are already minimal)."""
    count = 0
    for case in cases:
        session.trail.clear()
        if case.valid:
            try:
                session.accept(case.body, rule_id, f"value {case.note}")
            except Unaffordable:
                continue  # not paid for: the refusals still run, and the rule is reported partly exercised
        else:
            session.reject(case.body, case.error, rule_id, f"value {case.note}")
        count += 1
    return count


def run_examples(
    session: Session, rule_id: str, strategy: st.SearchStrategy[T], check: Callable[[T], None], share: int = 1
) -> None:
    """`check` over random examples of `strategy`; a failure is re-raised for its shrunk, minimal example."""

    @settings(
        max_examples=max(1, session.max_examples // share),
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(HPhase.generate, HPhase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
    )
    @seed(session.seed)
    @given(strategy)
    def prop(example: Any) -> None:
        session.trail.clear()
        try:
            check(example)
        except Unaffordable:
            return  # not paid for (session.unpaid says why): the next example may still be free

    try:
        with reporting.with_reporter(lambda *_: None):
            prop()
    except FlakyFailure as flaky:
        first = next((e for e in flaky.exceptions if isinstance(e, RuleFailure)), None)
        if first is None:
            raise
        first.actual += " (not reproducible on replay: the target is non-deterministic)"
        raise first from None
