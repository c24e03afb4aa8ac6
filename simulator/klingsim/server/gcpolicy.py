"""The garbage-collection policy of a served simulator: short pauses however many jobs it holds.

CPython's full collections walk every tracked object, and a simulator under load holds hundreds of
thousands of job and ledger records: a full collection then stops every answer for hundreds of
milliseconds to seconds (measured: 2.3 s at 200,000 jobs), which is what a gateway's load test would see as
the simulator's tail latency. Jobs and ledger entries form no reference cycles (they are freed by reference
counting when evicted), so the policy is:

- after start-up, everything loaded so far (modules, specs, routers) is moved out of the collector's sight
  (`gc.freeze()`), without collecting first: start-up leaves no garbage cycles (measured: a collection
  there frees nothing) and a collection of it would add ~15 ms to the start;
- young and middle collections stay as CPython sets them (a fraction of a millisecond, a few milliseconds),
  so the short-lived cycles of request handling (exceptions with tracebacks, coroutines) are reclaimed;
- objects that survived them are not walked again: each time a middle (or full) collection ends they are
  frozen too, so the old generation stays empty and no collection grows with the number of jobs held.
  Frozen objects are still freed by reference counting when they are dropped (an evicted job, a closed
  connection); only a reference cycle formed among old objects would stay, and none does (measured: a full
  collection after a load run finds nothing to free).
"""

from __future__ import annotations

import gc
from typing import Any


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation", 0) >= 1:
        gc.freeze()


def apply() -> None:
    """Freeze what start-up loaded, and what survives later middle collections."""
    gc.freeze()
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def active() -> bool:
    """True once `apply()` ran in this process."""
    return _freeze_survivors in gc.callbacks
