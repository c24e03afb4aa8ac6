"""Start over: `POST /_klingsim/reset` brings a simulator back to the state it started with.

Jobs, ledgers, keys, faults, the journal and deliveries go; the id sequence and the job-duration draws start
again from the seed; a virtual clock goes back to its starting time (unless asked to keep it); the accounts
and faults the server started with (a `--scenario`) come back. So the same requests after a reset get the same
ids and times as on a freshly started server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from klingsim.core.clock import VirtualClock
from klingsim.core.ids import IdGenerator

if TYPE_CHECKING:
    from klingsim.core.simulator import Simulator


@dataclass(frozen=True, slots=True)
class Start:
    clock: float
    setup: Callable[[], None] | None


_starts: WeakKeyDictionary[Simulator, Start] = WeakKeyDictionary()


def remember(sim: Simulator, setup: Callable[[], None] | None = None) -> None:
    """Take the simulator's current state as its start; `setup` re-applies what was loaded into it."""
    _starts[sim] = Start(sim.clock.now(), setup)


def remember_once(sim: Simulator) -> None:
    """Take the current state as the start unless one was remembered already (the control plane does this
    when it is built, which may be after `klingsim serve` remembered its scenario)."""
    if sim not in _starts:
        remember(sim)


def restart(sim: Simulator, keep_clock: bool = False) -> None:
    start = _starts.get(sim)
    with sim.store.transaction():
        sim.reset()
        sim.ids = IdGenerator(sim.seed)
        sim.answer_ids = IdGenerator(sim.seed, stream="answers")
        if start is not None and not keep_clock and isinstance(sim.clock, VirtualClock):
            sim.clock.rewind(start.clock)
            sim.store.save_clock(start.clock)
    if start is not None and start.setup is not None:
        start.setup()
