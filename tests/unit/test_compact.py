"""Held jobs share equal values without changing what any answer shows; finished jobs are evicted, counted."""

from __future__ import annotations

from decimal import Decimal

from klingsim.core import compact
from klingsim.core.clock import VirtualClock
from klingsim.core.jobs import Job, JobEngine
from klingsim.core.ledger import FOLD_BATCH, FOLD_SHARE, Ledger
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


def test_entries_of_evicted_jobs_leave_the_listings_and_are_folded_in_batches() -> None:
    ledger = Ledger()
    ledger.set_balance("p", "a", Decimal(10_000), 0)
    for i in range(FOLD_BATCH + 2):
        ledger.debit("p", "a", f"j{i}", Decimal(2), i, hold=True)
        ledger.settle("p", f"j{i}", succeeded=True, refund_on_failure=False, at=i)
    ledger.forget_job("p", "a", "j0")
    assert ledger.job_entries("p", "j0") == ()
    assert len(ledger.entries("p", "a")) == 1 + 2 * (FOLD_BATCH + 1)
    assert ledger.folded("p", "a") == 0  # not folded yet: one job is not a batch
    for i in range(1, FOLD_BATCH):
        ledger.forget_job("p", "a", f"j{i}")
    assert ledger.folded("p", "a") == 2 * FOLD_BATCH
    assert [e.job_id for e in ledger.entries("p", "a")] == [
        None,
        *[f"j{FOLD_BATCH}"] * 2,
        *[f"j{FOLD_BATCH + 1}"] * 2,
    ]
    expected = Decimal(10_000) - 2 * (FOLD_BATCH + 2)
    assert ledger.balance("p", "a") == expected and ledger.spent("p", "a") == 2 * (FOLD_BATCH + 2)
    assert ledger.inconsistencies() == []


def test_the_simulator_forgets_the_ledger_entries_of_the_jobs_it_evicts() -> None:
    from klingsim.core.http import Request
    from klingsim.core.simulator import Simulator
    from klingsim.providers import ALL

    sim = Simulator(ALL, VirtualClock(), max_finished_jobs=1)
    key = "k3a_live_0123456789abcdef"
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    body = b'{"type": "pro-text-to-video", "prompt": "mountains"}'
    ids = []
    for _ in range(3):
        answer = sim.handle("kling3api", Request("POST", "/api/generate", {}, headers, body, "http://t"))
        ids.append(answer.body["data"]["task_id"])
        sim.advance(3600)
    assert sim.engine.evicted == 2
    account = sim.keys.account_of("kling3api", key)
    assert account is not None
    listed = {e.job_id for e in sim.ledger.entries("kling3api", account)}
    assert listed == {None, ids[2]}
    assert sim.ledger.inconsistencies() == []


def test_a_large_ledger_folds_in_batches_that_grow_with_it() -> None:
    ledger = Ledger()
    ledger.set_balance("p", "a", Decimal(10**9), 0)
    jobs = 8 * FOLD_BATCH
    for i in range(jobs):
        ledger.debit("p", "a", f"j{i}", Decimal(1), i, hold=True)
        ledger.settle("p", f"j{i}", succeeded=True, refund_on_failure=False, at=i)
    entries = 1 + 2 * jobs
    batch = entries // FOLD_SHARE  # over FOLD_BATCH here
    for i in range(batch - 1):
        ledger.forget_job("p", "a", f"j{i}")
    assert ledger.folded("p", "a") == 0  # a quarter of the entries is not reached yet
    assert len(ledger.entries("p", "a")) == entries - 2 * (batch - 1)  # but they left the listings
    ledger.forget_job("p", "a", f"j{batch - 1}")
    assert ledger.folded("p", "a") == 2 * batch
    assert ledger.balance("p", "a") == Decimal(10**9) - jobs
    assert ledger.inconsistencies() == []
