"""The garbage-collection policy of a served simulator: short pauses however many jobs it holds.

CPython's full collections walk every tracked object, and a simulator under load holds hundreds of
thousands of job and ledger records: a full collection then stops every answer for hundreds of
milliseconds to seconds (measured: 2.3 s at 200,000 jobs), which is what a gateway's load test would see as
the simulator's tail latency. Jobs and ledger entries form no reference cycles (they are freed by reference
counting when evicted), so the policy is:

- after start-up, everything loaded so far (modules, specs, routers) is moved out of the collector's sight
  (`gc.freeze()`), without collecting first: start-up leaves no garbage cycles (measured: a collection
  there frees nothing) and a collection of it would add ~15 ms to the start (`klingsim serve` even runs
  its start-up with the collector off; `apply()` switches it on);
- young collections stay as CPython sets them (a fraction of a millisecond), so the short-lived cycles of
  request handling (exceptions with tracebacks, coroutines) are reclaimed; a middle collection follows every
  second young one (CPython: every tenth), so what survives is frozen in small batches (measured at
  32 connections: pauses of at most ~1 ms instead of ~6 ms every quarter second, and half the time in
  collections);
- objects that survived them are not walked again: each time a middle (or full) collection ends they are
  frozen too, so the old generation stays empty and no collection grows with the number of jobs held.
  Frozen objects are still freed by reference counting when they are dropped (an evicted job, a closed
  connection); only a reference cycle formed among old objects would stay. A connection's protocol and its
  last request cycle referred to each other: server.connections drops the cycle when the connection closes
  (measured: RSS grew 27 B per connection over 60,000 closed connections before, nothing since);
- every `COLLECT_EVERY` answers the server collects the young and middle generations itself (`answered`).
  CPython starts a young collection when allocations minus deallocations pass its threshold, and once
  finished jobs are evicted as fast as new ones come, every answer frees about as many objects as it keeps:
  the count stays near zero while the young generation fills (measured under load, past 100,000 finished
  jobs: young collections of 122,000 objects, 97 ms each, and a create p99 of 40 ms where it had been 9).
"""

from __future__ import annotations

import gc
from typing import Any

MIDDLE_EVERY = 1  # CPython's second threshold: a middle collection once more than this many young ones ran
# Answers between the collections the policy runs itself: about as often as CPython's own middle collections
# under load (a create keeps ~15 tracked objects: ~1,000 objects, ~1 ms, per collection).
COLLECT_EVERY = 64


class _Cadence:
    left = 0  # answers until the policy's next collection; 0 while the policy is not applied


_cadence = _Cadence()


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation", 0) >= 1:
        gc.freeze()


def apply() -> None:
    """Freeze what start-up loaded, and what survives later middle collections (one after every second
    young collection, and one every `COLLECT_EVERY` answers)."""
    young, _, old = gc.get_threshold()
    gc.set_threshold(young, MIDDLE_EVERY, old)
    gc.freeze()
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)
    _cadence.left = COLLECT_EVERY
    gc.enable()  # `klingsim serve` starts with the collector off (cli)


def answered() -> None:
    """Count one answer of the server; once the policy is applied, every `COLLECT_EVERY`-th collects the young
    and middle generations (whose survivors are then frozen)."""
    cadence = _cadence
    if cadence.left:
        cadence.left -= 1
        if not cadence.left:
            cadence.left = COLLECT_EVERY
            gc.collect(1)


def active() -> bool:
    """True once `apply()` ran in this process."""
    return _freeze_survivors in gc.callbacks
