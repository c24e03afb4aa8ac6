"""Held jobs share equal values without changing what any answer shows; finished jobs are evicted, counted."""

from __future__ import annotations

from decimal import Decimal

from klingsim.core import compact
from klingsim.core.clock import VirtualClock
from klingsim.core.jobs import Job, JobEngine
from klingsim.core.ledger import Ledger
from klingsim.spec import OutputPlan, Plan


def make_plan(seconds: float, price_key: dict[str, object]) -> Plan:
    return Plan(price_key=price_key, billed_seconds=seconds, output=OutputPlan("16:9", 720, seconds, False))


def test_equal_plans_are_shared_but_values_written_differently_are_not() -> None:
    first = compact.plan(make_plan(5, {"mode": "pro"}))
    assert compact.plan(make_plan(5, {"mode": "pro"})) is first
    as_float = make_plan(5.0, {"mode": "pro"})  # equal to 5, but rendered "5.0"
    assert compact.plan(as_float) is as_float
    as_bool = make_plan(5, {"mode": True})
    assert compact.plan(make_plan(5, {"mode": 1})) is not compact.plan(as_bool)


def test_unhashable_plans_are_kept_as_they_are() -> None:
    odd = make_plan(5, {"sizes": {1, 2}})
    assert compact.plan(odd) is odd


def test_amounts_are_shared_only_with_the_same_digits() -> None:
    four_hundred = compact.amount(Decimal("400"))
    assert compact.amount(Decimal("400")) is four_hundred
    assert str(compact.amount(Decimal("400.0"))) == "400.0"


def test_a_held_request_keeps_its_content_and_order() -> None:
    body = {"type": "pro-text-to-video", "prompt": "x" * 500, "duration": 5, "tags": ["a"]}
    held = compact.request(dict(body))
    assert held == body and list(held) == list(body)


def add(engine: JobEngine, job_id: str, finish_in: float) -> Job:
    now = engine.clock.now()
    plan = make_plan(5, {})
    return engine.add(Job(job_id, "p", "a", "v", {}, plan, Decimal(1), now, now, now + finish_in))


def test_finished_jobs_beyond_the_bound_are_evicted_oldest_finished_first_and_counted() -> None:
    clock = VirtualClock()
    engine = JobEngine(clock, max_finished=2)
    for i, finish_in in enumerate([30, 10, 20, 40]):
        add(engine, f"j{i}", finish_in)
    clock.advance(100)
    engine.tick()
    assert engine.evicted == 2
    assert [j.id for j in engine.jobs()] == ["j0", "j3"]  # j1 (finished at 10) and j2 (20) went first
    engine.reset()
    assert engine.evicted == 0


def test_spent_is_kept_as_entries_are_appended() -> None:
    ledger = Ledger()
    ledger.set_balance("p", "a", Decimal(100), 0)
    ledger.debit("p", "a", "hold", Decimal("7.5"), 1, hold=True)
    ledger.debit("p", "a", "charge", Decimal(3), 2, hold=False)
    ledger.debit("p", "a", "refunded", Decimal(2), 3, hold=False)
    ledger.settle("p", "hold", succeeded=True, refund_on_failure=True, at=4)
    ledger.settle("p", "refunded", succeeded=False, refund_on_failure=True, at=5)
    assert ledger.spent("p", "a") == Decimal("10.5")
    rebuilt = Ledger()
    rebuilt.restore(ledger.entries("p", "a"))
    assert rebuilt.spent("p", "a") == Decimal("10.5")
    assert rebuilt.balance("p", "a") == ledger.balance("p", "a") == Decimal("89.5")
    assert ledger.inconsistencies() == []
