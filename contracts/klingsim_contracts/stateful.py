"""The lifecycle and ledger state machine: create jobs (some failing), poll, move the upstream clock.

Invariants judged on every step: status words move forward along the provider's edges, terminal words never
change, progress never goes down; after polling every job, the upstream balance equals the start less each
job's price, with failed jobs refunded as the provider documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, reporting, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, precondition, rule

from klingsim.spec import Phase
from klingsim_contracts import flows, shapes
from klingsim_contracts import strategies as gen
from klingsim_contracts.rules.base import RuleFailure
from klingsim_contracts.rules.money import refunds_failures
from klingsim_contracts.session import TOP_UP, Session

SETTLE_SECONDS = 2 * 24 * 3600


@dataclass
class Tracked:
    id: str
    price: Decimal
    fails: bool
    word: str | None = None
    progress: float | None = None


@dataclass
class Coverage:
    """What the machine actually saw, so rules it never exercised are reported as such."""

    moves: int = 0
    terminal_repolls: int = 0
    progress_pairs: int = 0
    ledger_checks: int = 0
    rules: set[str] = field(default_factory=set)


def _reachable(session: Session, before: str, after: str) -> bool:
    lifecycle = session.spec.lifecycle
    if before == after:
        return True
    frontier = set(session.phases_of(before))
    seen: set[Phase] = set()
    while frontier:
        phase = frontier.pop()
        seen.add(phase)
        for a, b in lifecycle.edges:
            if a == phase and b not in seen:
                if lifecycle.word(b) == after:
                    return True
                frontier.add(b)
    return False


def machine_for(session: Session, coverage: Coverage) -> type[RuleBasedStateMachine]:
    spec = session.spec
    pid = spec.id.upper()
    failing = flows.failing_body(spec)
    clock = session.control is not None and session.control.virtual_clock()
    accounts = clock and session.has_accounts()

    class GatewayMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.jobs: list[Tracked] = []
            self.start = Decimal(TOP_UP)

        @initialize()
        def fresh_account(self) -> None:
            session.trail.clear()
            if clock:
                # End every job of earlier programs first: a hold released after the top-up would
                # otherwise leak into this program's ledger (and make Hypothesis' replays flaky).
                assert session.control is not None
                session.control.advance(SETTLE_SECONDS)
            if accounts:
                session.top_up()
            session.trail.clear()

        def _fail(self, suffix: str, expected: str, actual: str) -> None:
            raise RuleFailure(f"{pid}-{suffix}", expected, actual, list(session.trail))

        @rule(body=gen.valid_requests(spec))
        def create(self, body: dict[str, Any]) -> None:
            ex = session.accept(body, f"{pid}-LIFECYCLE-ORDER", "a valid request in the state machine")
            job_id = session.job_id(ex)
            assert job_id is not None
            self.jobs.append(Tracked(job_id, gen.price_of(spec, body) or Decimal(0), False))
            self._see(self.jobs[-1], session.job_status(ex, created=True), None)

        @precondition(lambda self: failing is not None)
        @rule()
        def create_failing(self) -> None:
            ex = session.accept(failing, f"{pid}-LIFECYCLE-ORDER", "a job that fails upstream")
            job_id = session.job_id(ex)
            assert job_id is not None
            self.jobs.append(Tracked(job_id, gen.price_of(spec, failing or {}) or Decimal(0), True))
            self._see(self.jobs[-1], session.job_status(ex, created=True), None)

        @precondition(lambda self: bool(self.jobs))
        @rule(index=st.integers(0, 50))
        def poll(self, index: int) -> None:
            job = self.jobs[index % len(self.jobs)]
            self._poll(job)

        def _poll(self, job: Tracked) -> None:
            ex = session.status(job.id)
            raw = shapes.read(ex.response, session.shapes.progress)
            progress = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
            self._see(job, session.job_status(ex), progress)

        def _see(self, job: Tracked, word: str | None, progress: float | None) -> None:
            if word is None:
                return
            if job.word is not None:
                if word != job.word:
                    coverage.moves += 1
                if flows.is_terminal(spec, job.word):
                    coverage.terminal_repolls += 1
                    if word != job.word and flows.is_terminal(spec, word):
                        self._fail("TERMINAL-FINAL", f"{job.word!r} to stay", f"{job.word!r} became {word!r}")
                if not _reachable(session, job.word, word):
                    self._fail("LIFECYCLE-ORDER", f"a move forward from {job.word!r}", f"{word!r}")
            # A failed job may drop its progress (EvoLink documents `progress: 0` on failure).
            if (
                progress is not None
                and job.progress is not None
                and word != spec.lifecycle.word(Phase.FAILED)
            ):
                coverage.progress_pairs += 1
                if progress < job.progress:
                    self._fail("PROGRESS-MONOTONIC", f"progress >= {job.progress}", f"{progress}")
            job.word, job.progress = word, progress if progress is not None else job.progress

        @precondition(lambda self: clock)
        @rule(seconds=st.sampled_from([1, 5, 30, 120, 600]))
        def advance(self, seconds: int) -> None:
            assert session.control is not None
            session.control.advance(seconds)

        @precondition(lambda self: clock and bool(self.jobs))
        @rule()
        def finish_all(self) -> None:
            assert session.control is not None
            session.control.advance(3600)
            for job in self.jobs:
                self._poll(job)

        def _failed(self, job: Tracked) -> bool:
            failed_word = spec.lifecycle.word(Phase.FAILED)
            if failed_word == spec.lifecycle.word(Phase.SUCCEEDED):
                # fal: a failed request is COMPLETED too (with an error); the kit knows which it made fail
                return job.fails and job.word == failed_word
            return job.word == failed_word

        @precondition(lambda self: accounts and bool(self.jobs))
        @rule()
        def check_ledger(self) -> None:
            for job in self.jobs:
                self._poll(job)
            refund = refunds_failures(spec)
            expected = self.start - sum(
                (j.price for j in self.jobs if not (refund and self._failed(j))), Decimal(0)
            )
            actual = session.balance()
            coverage.ledger_checks += 1
            if abs(actual - expected) > Decimal(1).scaleb(-spec.prices.places) / 2:
                states = ", ".join(f"{j.id}={j.word}" for j in self.jobs)
                self._fail("LEDGER", f"balance {expected} ({states})", f"balance {actual}")

    return GatewayMachine


def run_machine(session: Session) -> Coverage:
    """Run the machine; raises the RuleFailure of the shortest failing program Hypothesis finds."""
    coverage = Coverage()
    machine = machine_for(session, coverage)
    config = settings(
        max_examples=max(3, session.max_examples // 4),
        stateful_step_count=15,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )
    _explicit_program(machine, session)
    test = seed(session.seed)(get_state_machine_test(machine, settings=config))
    with reporting.with_reporter(lambda *_: None):
        test()
    return coverage


def _explicit_program(machine: type[RuleBasedStateMachine], session: Session) -> None:
    """The explicit example before the random programs: a job and a failing job, each polled to its end
    and again after it, then the ledger; like boundary values, it reaches every invariant at once."""
    run: Any = machine()
    try:
        run.fresh_account()
        run.create(flows.cheap_body(session.spec))
        if flows.failing_body(session.spec) is not None:
            run.create_failing()
        if session.control is not None and session.control.virtual_clock():
            for _ in range(8):  # watch the jobs while they queue and render
                run.advance(30)
                for index in range(len(run.jobs)):
                    run.poll(index)
            run.finish_all()
            run.finish_all()
            if session.has_accounts():
                run.check_ledger()
    finally:
        run.teardown()
