"""Every timestamp, transition, expiry and retry reads one of these clocks."""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime
from typing import Protocol

# 2026-01-01T00:00:00Z: a fixed start so virtual-clock runs produce the same timestamps every time.
VIRTUAL_EPOCH = 1_767_225_600.0
MAX_TIME = 221_845_392_000.0  # 9000-01-01T00:00:00Z


class Clock(Protocol):
    mode: str
    speed: float

    def now(self) -> float:
        """Seconds since the Unix epoch, on this clock."""
        ...


class RealClock:
    """Wall time, optionally sped up: at speed 60, one real second is one simulated minute."""

    mode = "real"

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = time.time()

    def now(self) -> float:
        elapsed = time.time() - self._origin
        return self._origin + elapsed * self.speed


class VirtualClock:
    """Time that moves only when told to; tests and scripted scenarios use it and never sleep."""

    mode = "virtual"
    speed = 0.0

    def __init__(self, start: float = VIRTUAL_EPOCH) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a virtual clock only moves forward")
        with self._lock:
            self._now = _within_range(self._now + seconds)
            return self._now

    def set(self, t: float) -> float:
        with self._lock:
            if t < self._now:
                raise ValueError("a virtual clock only moves forward")
            _within_range(t)
            self._now = t
            return self._now

    def rewind(self, t: float) -> float:
        """Back to `t`: only for a reset of the whole simulator, when no job is left to be moved."""
        with self._lock:
            self._now = t
            return self._now


def _within_range(t: float) -> float:
    # Every time must stay showable as a timestamp, with room for renders and URL lifetimes after it.
    if not math.isfinite(t) or t > MAX_TIME:
        raise ValueError(f"a virtual clock stops before the year 9000 ({MAX_TIME:.0f} s since the epoch)")
    return t


# Recent conversions: a polled job's times are converted again for every status answer. Datetimes are
# immutable, so one object serves every answer; the table is emptied whole when full.
_datetimes: dict[float, datetime] = {}
_MAX_DATETIMES = 4096


def to_datetime(t: float) -> datetime:
    found = _datetimes.get(t)
    if found is None:
        found = datetime.fromtimestamp(t, tz=UTC)
        if len(_datetimes) >= _MAX_DATETIMES:
            _datetimes.clear()
        _datetimes[t] = found
    return found


# The last second written by `iso` and its text: most calls within a second ask for that same second.
_last_iso: list[tuple[int, str]] = [(-1, "")]


def iso(t: float) -> str:
    """ISO-8601 with a `Z`, whole seconds (the form the provider pages show)."""
    second = int(t)
    # Away from the end of a second only: there the microsecond rounding of `to_datetime` moves to the next.
    reusable = t >= 0 and t - second < 0.999_999
    last_second, last_text = _last_iso[0]
    if reusable and last_second == second:
        return last_text
    text = to_datetime(t).strftime("%Y-%m-%dT%H:%M:%SZ")
    if reusable:
        _last_iso[0] = (second, text)  # one tuple swapped whole: safe to read from another thread
    return text
