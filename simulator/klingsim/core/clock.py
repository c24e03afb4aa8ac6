"""Every timestamp, transition, expiry and retry reads one of these clocks."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

# 2026-01-01T00:00:00Z: a fixed start so virtual-clock runs produce the same timestamps every time.
VIRTUAL_EPOCH = 1_767_225_600.0


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
            self._now += seconds
            return self._now

    def set(self, t: float) -> float:
        with self._lock:
            if t < self._now:
                raise ValueError("a virtual clock only moves forward")
            self._now = t
            return self._now

    def rewind(self, t: float) -> float:
        """Back to `t`: only for a reset of the whole simulator, when no job is left to be moved."""
        with self._lock:
            self._now = t
            return self._now


def to_datetime(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def iso(t: float) -> str:
    """ISO-8601 with a `Z`, whole seconds (the form the provider pages show)."""
    return to_datetime(t).strftime("%Y-%m-%dT%H:%M:%SZ")
