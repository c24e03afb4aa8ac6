from __future__ import annotations

from decimal import Decimal

from klingsim.core.clock import VirtualClock
from klingsim.core.jobs import Job, JobEngine
from klingsim.spec import OutputPlan, Phase, Plan


def job(engine: JobEngine, job_id: str, run_in: float, finish_in: float) -> Job:
    now = engine.clock.now()
    plan = Plan(price_key={}, billed_seconds=5, output=OutputPlan("16:9", 720, 5, False))
    return engine.add(Job(job_id, "p", "a", "v", {}, plan, Decimal(1), now, now + run_in, now + finish_in))


def test_transitions_apply_in_time_order_when_due() -> None:
    clock = VirtualClock()
    engine = JobEngine(clock)
    seen: list[tuple[str, Phase]] = []
    engine.listeners.append(lambda j, p: seen.append((j.id, p)))
    job(engine, "slow", 10, 100)
    job(engine, "fast", 5, 20)
    clock.advance(1000)
    engine.tick()
    assert seen == [
        ("fast", Phase.RUNNING),
        ("slow", Phase.RUNNING),
        ("fast", Phase.SUCCEEDED),
        ("slow", Phase.SUCCEEDED),
    ]
    assert engine.get("p", "slow").history[-1] == (clock.now() - 1000 + 100, Phase.SUCCEEDED)  # type: ignore[union-attr]


def test_progress_is_judged_on_the_clock_and_terminal_states_are_final() -> None:
    clock = VirtualClock()
    engine = JobEngine(clock)
    j = job(engine, "j", 0, 100)
    engine.tick()
    assert j.phase is Phase.RUNNING and j.progress(clock.now()) == 0
    clock.advance(50)
    assert abs(j.progress(clock.now()) - 0.5) < 1e-9
    assert engine.finish(j, ("boom", "failed")) is True
    assert engine.finish(j, None) is False
    clock.advance(1000)
    engine.tick()
    assert j.phase is Phase.FAILED and j.error == ("boom", "failed")


def test_finished_jobs_beyond_the_cap_are_evicted_oldest_first() -> None:
    clock = VirtualClock()
    engine = JobEngine(clock, max_finished=2)
    for i in range(4):
        job(engine, f"j{i}", 0, i + 1)
    clock.advance(10)
    engine.tick()
    assert [j.id for j in engine.jobs()] == ["j2", "j3"]


def test_stuck_jobs_do_not_move() -> None:
    clock = VirtualClock()
    engine = JobEngine(clock)
    j = job(engine, "j", 1, 2)
    j.stuck = True
    clock.advance(100)
    engine.tick()
    assert j.phase is Phase.QUEUED
