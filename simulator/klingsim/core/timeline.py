"""The job engine's due transitions, taken in time order at a cost that does not grow with how many are held.

A served simulator under load holds a pending transition for every unfinished job: hundreds of thousands
after a minute (a kling3api job renders for about 80 s). In a binary heap of that size every pop walks
~19 levels of a list far larger than the CPU's caches (measured: 5.7 us per pop and push at 400,000 entries,
1.5 us at 1,000), and a minute-long load test would see the simulator slow down as it ran. So entries are
kept in buckets of `width` seconds of due time (a calendar queue): adding one appends to its bucket, and only
the bucket being taken is sorted. A heap orders the buckets' keys, and there are few of them (the span of due
times over `width`).

The order is exactly a heap's: by due time, then by the sequence number each entry carries (entries are
tuples starting with both), including for entries added, during a tick, with a due time in the bucket being
taken or earlier.
"""

from __future__ import annotations

import heapq
from bisect import insort
from typing import Any

DEFAULT_WIDTH = 0.05  # seconds of due time per bucket: a few hundred entries at thousands of jobs a second
_NEVER = 1 << 62  # the bucket of a due time that is not a finite number (after every real bucket)


class Timeline:
    """Tuples `(at, seq, ...)` (unique `seq`), taken smallest first once due (`first` and `pop_due`)."""

    def __init__(self, width: float = DEFAULT_WIDTH) -> None:
        self._width = width
        self._buckets: dict[int, list[tuple[Any, ...]]] = {}
        self._keys: list[int] = []  # a heap of the keys of `_buckets`
        self._taking: list[tuple[Any, ...]] = []  # the bucket being taken, sorted; taken up to `_next`
        self._taking_key = -_NEVER
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _key(self, at: float) -> int:
        try:
            return int(at // self._width)
        except (OverflowError, ValueError):  # infinite or not a number: due after everything else
            return _NEVER

    def push(self, entry: tuple[Any, ...]) -> None:
        key = self._key(entry[0])
        self._size += 1
        if key <= self._taking_key:  # due in the bucket being taken, or before it
            if self._next == len(self._taking):
                self._taking, self._next = [entry], 0  # all taken already: let go of them
            else:
                insort(self._taking, entry, lo=self._next)
            return
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = [entry]
            heapq.heappush(self._keys, key)
        else:
            bucket.append(entry)

    def first(self) -> float | None:
        """The earliest due time held, or None when there is none."""
        if self._next == len(self._taking) and not self._refill():
            return None
        at: float = self._taking[self._next][0]
        return at

    def pop_due(self, now: float) -> tuple[Any, ...] | None:
        """The earliest entry, removed, if it is due by `now`; else None (and nothing is removed)."""
        if self._next == len(self._taking) and not self._refill():
            return None
        entry = self._taking[self._next]
        if entry[0] > now:
            return None
        self._next += 1
        self._size -= 1
        return entry

    def _refill(self) -> bool:
        """Take the next bucket once the one being taken is done; False when none is left."""
        if self._next:
            self._taking, self._next = [], 0  # let go of the entries taken (the key stays: see push)
        if not self._keys:
            return False
        key = heapq.heappop(self._keys)
        bucket = self._buckets.pop(key)
        bucket.sort()
        self._taking, self._taking_key, self._next = bucket, key, 0
        return True

    def clear(self) -> None:
        self._buckets.clear()
        self._keys.clear()
        self._taking, self._taking_key, self._next, self._size = [], -_NEVER, 0, 0
