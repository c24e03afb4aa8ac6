"""The situations a client must cope with, and how each is staged on a simulator.

Every scenario asks the client for one video. What happens around it (an error, a failed render, an empty
account, a slow render, an expired output URL) is staged here with the simulator's own faults, balances and
clock; what the client must do about it is judged in `checks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from klingsim.core.faults import FaultSpec
from klingsim.core.simulator import Simulator
from klingsim.spec import ErrorRole, ProviderSpec
from klingsim_contracts.routing import Answer

Expect = Literal["success", "failure", "either"]

# The failure code a failed render reports (the simulator's job_failure fault; any code the provider's
# failure field can carry).
FAILURE_CODE = "generation_failed"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    expect: Expect  # what an honest, robust client reports: success, failure, or either (gave up honestly)
    error: ErrorRole | None = None  # fail the first request of `endpoint` with the provider's error for this
    endpoint: str = "create"
    lose_answer: bool = (
        False  # the request is processed, then the client gets the error instead of the answer
    )
    balance: Decimal | None = None
    fail_job: bool = False
    slow_seconds: float = 0.0
    expire_output: bool = False


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("success", "the job renders and the output downloads", "success"),
    Scenario("failed_job", "the job runs and fails", "failure", fail_job=True),
    Scenario(
        "rate_limited",
        "the first create is refused with 429 and a Retry-After header",
        "either",
        error=ErrorRole.RATE_LIMITED,
    ),
    Scenario(
        "server_error_on_create",
        "the first create is processed (job made, credits taken) but the client gets a 5xx",
        "either",
        error=ErrorRole.INTERNAL,
        lose_answer=True,
    ),
    Scenario(
        "server_error_on_poll",
        "the first status request is answered with a 5xx",
        "either",
        error=ErrorRole.INTERNAL,
        endpoint="status",
    ),
    Scenario("insufficient_credits", "the account has no credits", "failure", balance=Decimal(0)),
    Scenario("slow_job", "the render takes 7 minutes of virtual time", "success", slow_seconds=420.0),
    Scenario(
        "expired_output",
        "the output URL has expired by the time the client downloads it",
        "failure",
        expire_output=True,
    ),
)


def by_name(names: list[str] | tuple[str, ...] | None) -> tuple[Scenario, ...]:
    if not names:
        return SCENARIOS
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown scenarios {unknown}; known: {', '.join(known)}")
    return tuple(known[n] for n in names)


def applies(scenario: Scenario, spec: ProviderSpec) -> bool:
    """False when the provider can't stage it (no error for that role, no status endpoint to fail)."""
    if scenario.error is not None and scenario.error not in spec.roles:
        return False
    return scenario.endpoint != "status" or any(str(e.action) == "status" for e in spec.endpoints)


class Stage:
    """Sets a scenario up on a simulator and keeps it going while the client runs (recorder hooks).

    `retry_after` replaces the Retry-After the 429 announces (wall-clock runs of a subprocess use a short one
    so an honest client doesn't wait a real minute); None keeps the provider's.
    """

    def __init__(
        self, sim: Simulator, spec: ProviderSpec, scenario: Scenario, retry_after: int | None
    ) -> None:
        self.sim = sim
        self.spec = spec
        self.scenario = scenario
        self.retry_after = retry_after
        self.expired = False
        self.lost = False

    def prepare(self, api_key: str) -> None:
        scenario, spec = self.scenario, self.spec
        rt = self.sim.runtimes[spec.id]
        balance = scenario.balance if scenario.balance is not None else rt.default_balance
        self.sim.set_balance(spec.id, api_key, balance)
        if scenario.error is not None and not scenario.lose_answer:
            code = spec.roles[scenario.error]
            self.sim.faults.add(FaultSpec(spec.id, scenario.endpoint, error=code, count=1))
        if scenario.fail_job:
            self.sim.faults.add(FaultSpec(spec.id, "create", job_failure=FAILURE_CODE, count=1))

    def before(self, entry: dict[str, Any]) -> None:
        """Let the output URL expire just before the first download (the client was too slow to fetch it)."""
        if self.scenario.expire_output and entry["action"] == "download" and not self.expired:
            self.expired = True
            self.sim.advance(self.sim.runtimes[self.spec.id].url_lifetime + 1)

    def transform(self, entry: dict[str, Any], answer: Answer) -> Answer:
        """Lose the first create's answer (a 5xx in its place), or shorten a 429's Retry-After."""
        role = self.scenario.error
        lose = self.scenario.lose_answer and role is not None and not self.lost
        if lose and role is not None and entry["action"] == self.scenario.endpoint and answer.status < 300:
            self.lost = True
            rt = self.sim.runtimes[self.spec.id]
            error = self.sim.error(rt, self.spec.roles[role], "Injected: the answer was lost")
            return Answer(error.status, [("content-type", "application/json")], error.encoded())
        if self.retry_after is not None and any(k == "retry-after" for k, _ in answer.headers):
            headers = [(k, str(self.retry_after) if k == "retry-after" else v) for k, v in answer.headers]
            return Answer(answer.status, headers, answer.body)
        return answer

    def after(self, entry: dict[str, Any]) -> None:
        """Stretch a new job's render to `slow_seconds` (the engine reads finish_at when the job starts)."""
        if not self.scenario.slow_seconds or entry["action"] != "create" or entry["status"] >= 300:
            return
        for job in self.sim.engine.jobs():
            if job.provider == self.spec.id and not job.noted("klingsim_slowed") and not job.terminal:
                job.meta["klingsim_slowed"] = True
                job.finish_at = job.created_at + self.scenario.slow_seconds
