"""Injected faults: failed requests, added latency, jobs that fail after running or never finish.

A fault matches requests of one provider to one endpoint kind ("create", "status", "download", or "*" for
every request of the provider). `count` fails the next N matches; `rate` fails a seeded fraction of them;
neither fails every match until the fault is removed. `latency_ms` (fixed, or a [min, max] range drawn with
the seeded generator) delays matching answers; with no `error` a latency fault only delays.

Job faults shape the jobs that matching creates start: `job_failure` makes the job fail after it runs with
that provider failure code (the control-plane twin of the `[klingsim:fail=<code>]` prompt marker), `stuck`
keeps it in "queued" or "running" until an outcome is forced.

Latency never sleeps in the core: the answer carries the delay, the request journal records it, and the
ASGI adapter waits it out (asynchronously) on every clock, so a client's timeout handling can be tested
against a virtual-clock server too. At most MAX_LATENCY_MS.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

ENDPOINTS = ("create", "status", "download", "*")
MAX_LATENCY_MS = 300_000.0  # 5 minutes: longer than any client timeout worth testing
STUCK_STATES = ("queued", "running")


@dataclass
class FaultSpec:
    provider: str
    endpoint: str = "*"
    error: str | None = None
    count: int | None = None
    rate: float | None = None
    latency_ms: float | tuple[float, float] | None = None
    job_failure: str | None = None
    stuck: str | None = None
    message: str | None = None

    @property
    def job_fault(self) -> bool:
        """True when the fault shapes accepted jobs rather than answering requests."""
        return bool(self.job_failure or self.stuck)

    def problems(self) -> list[str]:
        """What makes this fault meaningless (empty when it is well-formed)."""
        found: list[str] = []
        if self.endpoint not in ENDPOINTS:
            found.append(f"endpoint must be one of {', '.join(ENDPOINTS)}")
        if self.count is not None and self.count < 1:
            found.append("count must be at least 1")
        if self.count is not None and self.rate is not None:
            found.append("give count or rate, not both")
        if self.rate is not None and not 0 <= self.rate <= 1:
            found.append("rate must be between 0 and 1")
        bounds = f"0 and {MAX_LATENCY_MS:g}"
        if isinstance(self.latency_ms, tuple):
            low, high = self.latency_ms
            if not (0 <= low <= high <= MAX_LATENCY_MS):
                found.append(f"latency_ms range must be [min, max] with min <= max, both between {bounds}")
        elif self.latency_ms is not None and not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            found.append(f"latency_ms must be between {bounds}")
        if self.stuck is not None and self.stuck not in STUCK_STATES:
            found.append(f"stuck must be one of {', '.join(STUCK_STATES)}")
        if self.job_fault and self.endpoint not in ("create", "*"):
            found.append("job_failure and stuck apply to creates: endpoint must be 'create' or '*'")
        if self.job_fault and (self.error or self.latency_ms is not None):
            found.append("a job fault (job_failure, stuck) takes no error or latency_ms; add two faults")
        if not (self.error or self.latency_ms is not None or self.job_failure or self.stuck):
            found.append("a fault needs error, latency_ms, job_failure or stuck")
        return found


@dataclass
class Fault:
    id: str
    spec: FaultSpec
    remaining: int | None
    matched: int = 0
    fired: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self.spec)
        if isinstance(self.spec.latency_ms, tuple):
            data["latency_ms"] = list(self.spec.latency_ms)
        return {
            "id": self.id,
            **data,
            "remaining": self.remaining,
            "matched": self.matched,
            "fired": self.fired,
        }


@dataclass(frozen=True)
class Hit:
    """What the faults matching one request ask for."""

    error: str | None = None
    message: str | None = None
    delay_seconds: float = 0.0
    job_failure: str | None = None
    stuck: str | None = None
    fault_ids: tuple[str, ...] = field(default_factory=tuple)


class FaultRegistry:
    """The active faults; `take` consumes the ones a request matches, in the order they were added."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._rng = random.Random(f"faults:{seed}")
        self._faults: dict[str, Fault] = {}
        self._next = 0
        self._lock = threading.Lock()

    def add(self, spec: FaultSpec) -> str:
        problems = spec.problems()
        if problems:
            raise ValueError("; ".join(problems))
        with self._lock:
            self._next += 1
            fault_id = f"fault_{self._next}"
            self._faults[fault_id] = Fault(fault_id, spec, spec.count)
            return fault_id

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._faults.values()]

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            return self._faults.pop(fault_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rng = random.Random(f"faults:{self._seed}")

    def take(self, provider: str, endpoint: str, jobs: bool = False) -> Hit | None:
        """Consume the faults matching one request of `provider` to `endpoint` (None: nothing applies).

        Request faults (error, latency) are taken when a request arrives; job faults (`jobs=True`) when a
        create was accepted, so `count` counts jobs, not attempts."""
        if not self._faults:  # the usual case: no fault set, nothing to lock or draw
            return None
        error: str | None = None
        message: str | None = None
        delay = 0.0
        job_failure: str | None = None
        stuck: str | None = None
        ids: list[str] = []
        with self._lock:
            for fault in list(self._faults.values()):
                spec = fault.spec
                if spec.provider != provider or spec.endpoint not in ("*", endpoint):
                    continue
                if spec.job_fault != jobs:
                    continue
                fault.matched += 1
                if spec.rate is not None and self._rng.random() >= spec.rate:
                    continue
                fault.fired += 1
                ids.append(fault.id)
                delay += self._latency(spec) / 1000
                if spec.error and error is None:
                    error, message = spec.error, spec.message
                job_failure = job_failure or spec.job_failure
                stuck = stuck or spec.stuck
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._faults[fault.id]
        if not ids:
            return None
        return Hit(error, message, delay, job_failure, stuck, tuple(ids))

    def _latency(self, spec: FaultSpec) -> float:
        if spec.latency_ms is None:
            return 0.0
        if isinstance(spec.latency_ms, tuple):
            low, high = spec.latency_ms
            return self._rng.uniform(low, high)
        return float(spec.latency_ms)


def fault_from_json(data: dict[str, Any]) -> FaultSpec:
    """A FaultSpec from the control plane's or a scenario's JSON/TOML (lists become latency ranges)."""
    known = set(FaultSpec.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown fault fields {sorted(unknown)}; known: {sorted(known)}")
    if "provider" not in data:
        raise ValueError("provider is required")
    values = dict(data)
    latency = values.get("latency_ms")
    if isinstance(latency, list):
        if len(latency) != 2:
            raise ValueError("latency_ms range must be [min, max]")
        values["latency_ms"] = (float(latency[0]), float(latency[1]))
    return FaultSpec(**values)
