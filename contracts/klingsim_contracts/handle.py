"""What the `klingsim` pytest fixture hands a test: an in-process simulator on a virtual clock, with its
traffic router active, and the few controls a test needs (clock, balances, faults, journal)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

from klingsim.core.faults import FaultSpec, fault_from_json
from klingsim.core.simulator import Runtime, Simulator
from klingsim_contracts.routing import TrafficRouter
from klingsim_contracts.vtime import sleeps_advance


class KlingsimHandle:
    """The simulator behind every provider host while the test runs."""

    def __init__(self, sim: Simulator, router: TrafficRouter) -> None:
        self.sim = sim
        self.router = router

    # ----------------------------------------------------------------- time
    def advance(self, seconds: float) -> float:
        """Move the virtual clock; every transition and expiry that falls due is applied."""
        return self.sim.advance(seconds)

    def virtual_sleep(self) -> AbstractContextManager[None]:
        """While active, `time.sleep`/`asyncio.sleep` advance the virtual clock instead of waiting."""
        return sleeps_advance(self.sim.advance)

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
        spec = self._runtime(provider).spec
        spec.error(error)  # KeyError naming the provider if the code is not one of its errors
        fault_id: str = self.sim.faults.add(FaultSpec(provider, endpoint, error=error, count=count))
        return fault_id

    def add_fault(self, fault: FaultSpec | Mapping[str, Any]) -> str:
        """Any fault the control plane takes (a FaultSpec, or its JSON form)."""
        spec = fault if isinstance(fault, FaultSpec) else fault_from_json(dict(fault))
        self._runtime(spec.provider)
        return self.sim.faults.add(spec)

    # ----------------------------------------------------------------- what happened
    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request journal: every provider request and download, oldest first, as JSON-able dicts."""
        return self.sim.journal.entries()

    @property
    def unknown_hosts(self) -> list[str]:
        """Requests refused because their host is neither a provider's nor loopback."""
        return [f"{r.method} {r.url}" for r in self.router.refused]

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
            raise KeyError(f"unknown provider {provider!r}; known: {known}") from None
