"""The job engine: jobs move through their lifecycle by clock time, never by how often they are polled.

Each job's queue and render durations are drawn from the provider's RenderTime with a seeded generator when
it is created; `tick()` applies, in time order, every transition that is due on the clock.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from klingsim.core import compact
from klingsim.core.clock import Clock
from klingsim.core.timeline import Timeline
from klingsim.spec import TERMINAL_PHASES, Lifecycle, Phase, Plan


class Job:
    """A job held by the engine, kept small: a million finished ones must fit in memory (issue 14).

    The request is kept as a shared tuple of field names and a tuple of values (`request` gives a new dict
    each time it is read), and the history is derived from the times of the job's steps, which say it all:
    queued at `created_at`, running from `started_at` (None when it never ran: cancelled or failed while
    queued), ended at `finished_at` in `phase`.
    """

    __slots__ = (
        "_fields",
        "_meta",
        "_values",
        "account",
        "cost",
        "created_at",
        "error",
        "finish_at",
        "finished_at",
        "id",
        "phase",
        "plan",
        "planned_failure",
        "provider",
        "run_at",
        "started_at",
        "stuck",
        "variant",
    )

    def __init__(
        self,
        id: str,
        provider: str,
        account: str,
        variant: str,
        request: dict[str, Any],
        plan: Plan,
        cost: Decimal,
        created_at: float,
        run_at: float,
        finish_at: float,
        phase: Phase = Phase.QUEUED,
        started_at: float | None = None,
        finished_at: float | None = None,
        planned_failure: tuple[str, str] | None = None,
        error: tuple[str, str] | None = None,
        stuck: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.provider = provider
        self.account = account
        self.variant = variant
        self._fields, self._values = compact.request_parts(request)
        self.plan = plan
        self.cost = cost
        self.created_at = created_at
        self.run_at = run_at
        self.finish_at = finish_at
        self.phase = phase
        self.started_at = started_at
        self.finished_at = finished_at
        self.planned_failure = planned_failure
        self.error = error
        self.stuck = stuck
        self._meta = meta or None  # most jobs carry no notes: no empty dict each

    @property
    def meta(self) -> dict[str, Any]:
        """Notes on the job (its create operation, callback URL, faults...), made on first use."""
        if self._meta is None:
            self._meta = {}
        return self._meta

    def noted(self, key: str, default: Any = None) -> Any:
        """One note, without making the notes of a job that has none."""
        return self._meta.get(key, default) if self._meta else default

    def notes(self) -> dict[str, Any]:
        """A copy of the notes (empty when there are none)."""
        return dict(self._meta) if self._meta else {}

    @property
    def request(self) -> dict[str, Any]:
        """The validated request (a new dict: changing it changes nothing held)."""
        return dict(zip(self._fields, self._values, strict=True))

    @request.setter
    def request(self, value: dict[str, Any]) -> None:
        self._fields, self._values = compact.request_parts(value)

    def field(self, name: str) -> Any:
        """One request field (None when absent), without building the request dict."""
        fields = self._fields
        return self._values[fields.index(name)] if name in fields else None

    @property
    def history(self) -> list[tuple[float, Phase]]:
        """(time, phase) of each step the job took, oldest first."""
        steps = [(self.created_at, Phase.QUEUED)]
        if self.started_at is not None:
            steps.append((self.started_at, Phase.RUNNING))
        if self.finished_at is not None and self.phase in TERMINAL_PHASES:
            steps.append((self.finished_at, self.phase))
        return steps

    def __repr__(self) -> str:
        return f"Job({self.provider}/{self.id}, {self.phase}, account={self.account!r})"

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    def progress(self, now: float) -> float:
        """Fraction of the render done, judged on the clock (0 while queued, 1 once succeeded)."""
        if self.phase is Phase.SUCCEEDED:
            return 1.0
        if self.phase is not Phase.RUNNING or self.started_at is None:
            return 0.0
        span = max(self.finish_at - self.started_at, 1e-9)
        return min(max((now - self.started_at) / span, 0.0), 0.99)


Listener = Callable[[Job, Phase], None]


def draw(rng: random.Random, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return low if high <= low else rng.uniform(low, high)


class JobEngine:
    """Holds the jobs of every provider; finished jobs beyond `max_finished` are evicted oldest first
    (in the order they finished; `evicted` counts them)."""

    def __init__(self, clock: Clock, seed: int = 0, max_finished: int = 100_000) -> None:
        self.clock = clock
        self._seed = seed
        self._rng = random.Random(f"jobs:{seed}")
        # provider -> job id -> job: a key tuple per job would cost more than the job's id.
        self._jobs: dict[str, dict[str, Job]] = {}
        self._finished: deque[Job] = deque()  # in the order they finished
        self.evicted = 0
        self._due = Timeline()  # (at, seq, provider, job id, phase) of each pending transition
        self._seq = 0
        self._lock = threading.RLock()
        self.max_finished = max_finished
        self.listeners: list[Listener] = []
        self.evict_listeners: list[Callable[[Job], None]] = []  # told of each job evicted

    def schedule(
        self, lifecycle: Lifecycle, request: dict[str, Any], output_seconds: float
    ) -> tuple[float, float]:
        """Seconds from now until the job runs, and its render time, drawn from the provider's ranges."""
        render = lifecycle.render
        with self._lock:
            queued = draw(self._rng, render.queued)
            work = draw(self._rng, render.base) + output_seconds * draw(self._rng, render.per_output_second)
        for match, factor in render.factors:
            if all(request.get(k) == v for k, v in match.items()):
                work *= factor
                break
        return queued, work

    def add(self, job: Job) -> Job:
        """Hold a new job. The simulator made its plan and cost from values other jobs share already
        (`core.compact`, when the create was evaluated), and its request is kept as shared parts (`Job`)."""
        with self._lock:
            self._jobs.setdefault(job.provider, {})[job.id] = job
            self._push(job.run_at, job, Phase.RUNNING)
        return job

    def _push(self, at: float, job: Job, phase: Phase) -> None:
        self._seq += 1
        self._due.push((at, self._seq, job.provider, job.id, phase))

    def get(self, provider: str, job_id: str) -> Job | None:
        held = self._jobs.get(provider)
        return held.get(job_id) if held is not None else None

    def jobs(self) -> Iterator[Job]:
        return iter([job for held in list(self._jobs.values()) for job in list(held.values())])

    def tick(self) -> int:
        """Apply every transition due by now, in time order; returns how many were applied."""
        now = self.clock.now()
        due = self._due
        first = due.first()
        if first is None or first > now:
            return 0  # most ticks (one per request): nothing due
        applied = 0
        while True:
            with self._lock:  # taken per transition: a long catch-up lets other threads in between
                entry = due.pop_due(now)
                if entry is None:
                    break
                at, _, provider, job_id, phase = entry
                job = self.get(provider, job_id)
                if job is None or job.stuck or job.terminal:
                    continue
                if phase is Phase.RUNNING and job.phase is Phase.QUEUED:
                    job.started_at = at
                    self._move(job, Phase.RUNNING, at)
                    self._push(job.finish_at, job, Phase.SUCCEEDED)
                elif phase is Phase.SUCCEEDED and job.phase is Phase.RUNNING:
                    final = Phase.FAILED if job.planned_failure else Phase.SUCCEEDED
                    job.error = job.planned_failure
                    self._move(job, final, at)
                else:
                    continue
                applied += 1
        return applied

    def _move(self, job: Job, phase: Phase, at: float) -> None:
        job.phase = phase
        if phase in TERMINAL_PHASES:
            job.finished_at = at
            self._finished.append(job)
        for listener in self.listeners:
            listener(job, phase)
        self._evict()

    def finish(self, job: Job, error: tuple[str, str] | None) -> bool:
        """End a job now (forced outcome, or a synchronous wait); False if it had already ended."""
        with self._lock:
            if job.terminal:
                return False
            now = self.clock.now()
            if job.phase is Phase.QUEUED and error is None:
                job.started_at = now
                self._move(job, Phase.RUNNING, now)
            job.error = error
            job.stuck = False
            self._move(job, Phase.FAILED if error else Phase.SUCCEEDED, now)
            return True

    def _evict(self) -> None:
        while len(self._finished) > self.max_finished:
            job = self._finished.popleft()
            held = self._jobs.get(job.provider)
            if held is not None and held.get(job.id) is job:
                del held[job.id]
                self.evicted += 1
                for listener in self.evict_listeners:
                    listener(job)

    def restore(self, job: Job) -> None:
        """Put a persisted job back, rescheduling what it still has to do."""
        with self._lock:
            self._jobs.setdefault(job.provider, {})[job.id] = job
            if job.terminal:
                self._finished.append(job)
            elif job.phase is Phase.QUEUED:
                self._push(job.run_at, job, Phase.RUNNING)
            else:
                self._push(job.finish_at, job, Phase.SUCCEEDED)

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(f"jobs:{self._seed}")  # the same durations again, as at the start
            self._jobs.clear()
            self._finished.clear()
            self.evicted = 0
            self._due.clear()
