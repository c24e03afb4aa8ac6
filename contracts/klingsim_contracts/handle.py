"""What the `klingsim` and `klingsim_server` pytest fixtures hand a test: a simulator (in process, its
traffic router active; or on a loopback port, `.url`) and the few controls a test needs (clock, balances,
faults, journal)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from unittest import mock

from klingsim.core.faults import FaultSpec, fault_from_json
from klingsim.core.simulator import Runtime, Simulator
from klingsim_contracts.routing import TrafficRouter
from klingsim_contracts.vtime import sleeps_advance


class KlingsimHandle:
    """The simulator behind every provider host while the test runs (`router` None: served on a port)."""

    def __init__(self, sim: Simulator, router: TrafficRouter | None = None, url: str = "") -> None:
        self.sim = sim
        self.router = router
        self.url = url  # the loopback base URL of `klingsim_server` ("" in process)
        self.default_provider: str | None = None
        self.virtual_depth = 0  # > 0 while virtual_sleep() is active
        self.real_slept = 0.0  # seconds the code under test slept for real outside virtual_sleep()

    # ----------------------------------------------------------------- time
    def advance(self, seconds: float) -> float:
        """Move the virtual clock; every transition and expiry that falls due is applied."""
        if self.sim.clock.mode != "virtual":
            raise RuntimeError(
                "this simulator runs on a real clock, which can't be advanced; run klingsim_server with "
                "--klingsim-server-clock virtual (the default) to move time from the test"
            )
        return self.sim.advance(seconds)

    @contextmanager
    def virtual_sleep(self) -> Iterator[None]:
        """While active, `time.sleep`/`asyncio.sleep` advance the virtual clock instead of waiting."""
        self.virtual_depth += 1
        try:
            with sleeps_advance(self.sim.advance):
                yield
        finally:
            self.virtual_depth -= 1

    @contextmanager
    def watching_real_sleeps(self) -> Iterator[None]:
        """Count `time.sleep` outside virtual_sleep() (it still sleeps): the clue for `real_time_hint`."""
        real_sleep = time.sleep

        def counted(seconds: float) -> None:
            if self.virtual_depth == 0 and self.sim.clock.mode == "virtual":
                self.real_slept += max(0.0, float(seconds))
            real_sleep(seconds)

        with mock.patch.object(time, "sleep", counted):
            yield

    def real_time_hint(self) -> str:
        """Why a failed test may have waited in vain: the clock is virtual and nothing moved it."""
        if self.sim.clock.mode != "virtual":
            return ""
        clues = self.stalled_polls()
        if self.real_slept > 0:
            clues.insert(
                0, f"it slept {self.real_slept:.1f} s of real time (time.sleep) outside virtual_sleep()"
            )
        if not clues:
            return ""
        return (
            "klingsim's clock is virtual: it moves only when the test moves it, so waiting on real time "
            f"never finishes a job ({'; '.join(clues)}). Run the client inside "
            "`with klingsim.virtual_sleep():` (time.sleep and asyncio.sleep then advance the clock), "
            "or call `klingsim.advance(seconds)`."
        )

    # ----------------------------------------------------------------- accounts and faults
    def set_balance(self, provider: str, key: str, amount: float | int | str | Decimal) -> None:
        """Create the key or set its balance (in the provider's unit)."""
        self._runtime(provider)
        self.sim.set_balance(provider, key, Decimal(str(amount)))

    def balance(self, provider: str, key: str) -> Decimal:
        account = self.sim.keys.account_of(provider, key)
        return self.sim.ledger.balance(provider, account) if account is not None else Decimal(0)

    def fail_next(self, provider: str, error: str, endpoint: str = "*", count: int = 1) -> str:
        """Fail the next `count` requests to `endpoint` ("create", "status", "download", "*") with one of the
        provider's documented errors, in its envelope and status; returns the fault id."""
        self._error(provider, error)
        return self.add_fault(provider=provider, endpoint=endpoint, error=error, count=count)

    def add_fault(
        self,
        fault: FaultSpec | Mapping[str, Any] | None = None,
        *,
        provider: str | None = None,
        endpoint: str = "*",
        error: str | None = None,
        count: int | None = None,
        rate: float | None = None,
        latency_ms: float | tuple[float, float] | None = None,
        job_failure: str | None = None,
        stuck: str | None = None,
        message: str | None = None,
    ) -> str:
        """Inject a fault; returns its id. Keywords: `provider` (default: the marker's), `endpoint` ("create",
        "status", "download", "*"), and one of `error` (a documented code of the provider), `latency_ms`
        (ms, or a (min, max) range), `job_failure` (a failure code the job ends with), `stuck` ("queued",
        "running"); `count` (the next N matches) or `rate` (a fraction of them); `message`. A FaultSpec or
        the control plane's JSON form is also accepted as the one positional argument."""
        if fault is not None:
            spec = fault if isinstance(fault, FaultSpec) else fault_from_json(dict(fault))
        else:
            chosen = provider or self.default_provider
            if chosen is None:
                raise TypeError(f"add_fault needs provider=...; one of: {', '.join(self.sim.runtimes)}")
            spec = FaultSpec(chosen, endpoint, error, count, rate, latency_ms, job_failure, stuck, message)
        self._runtime(spec.provider)
        if spec.error is not None:
            self._error(spec.provider, spec.error)
        try:
            fault_id: str = self.sim.faults.add(spec)
        except ValueError as wrong:
            raise ValueError(f"add_fault: {wrong}") from None
        return fault_id

    def _error(self, provider: str, code: str) -> None:
        spec = self._runtime(provider).spec
        codes = [e.code for e in spec.errors]
        if code not in codes:
            raise KeyError(f"unknown error {code!r} for {provider}; valid: {', '.join(codes)}")

    # ----------------------------------------------------------------- what happened
    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request journal: every provider request and download, oldest first, as JSON-able dicts."""
        return self.sim.journal.entries()

    @property
    def unknown_hosts(self) -> list[str]:
        """Requests refused because their host is neither a provider's nor loopback."""
        return [f"{r.method} {r.url}" for r in self.router.refused] if self.router is not None else []

    def stalled_polls(self, at_least: int = 3) -> list[str]:
        """Jobs polled `at_least` times at one virtual instant while unfinished: a client waiting on real
        time while the clock stands still."""
        if self.sim.clock.mode != "virtual":
            return []
        seen: dict[tuple[str, str, float], int] = {}
        for entry in self.requests:
            if entry.get("method") != "GET" or entry.get("status", 500) >= 300 or not entry.get("provider"):
                continue
            query = "&".join(f"{k}={v}" for k, v in sorted(entry.get("query", {}).items()))
            target = entry["path"] + (f"?{query}" if query else "")
            key = (str(entry["provider"]), target, float(entry.get("at", 0.0)))
            seen[key] = seen.get(key, 0) + 1
        return [
            f"{provider} GET {target} answered {n} times at one virtual instant"
            for (provider, target, _), n in seen.items()
            if n >= at_least
        ]

    def base_url(self, provider: str) -> str:
        """The provider's real base URL (routed to this simulator while the fixture is active)."""
        return self._runtime(provider).spec.base_url

    def reset(self) -> None:
        """Drop jobs, ledgers, keys, journal and faults (the clock keeps going forward)."""
        self.sim.reset()

    def problems(self) -> Iterator[str]:
        """What makes the test fail at teardown: unknown hosts, ledger inconsistencies."""
        for refused in self.unknown_hosts:
            yield f"request to a host that is no provider's: {refused}"
        for problem in self.sim.ledger.inconsistencies():
            yield f"ledger inconsistency: {problem}"

    def _runtime(self, provider: str) -> Runtime:
        try:
            return self.sim.runtimes[provider]
        except KeyError:
            known = ", ".join(self.sim.runtimes)
            raise KeyError(f"unknown provider {provider!r}; valid: {known}") from None
