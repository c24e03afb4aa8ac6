"""Request rate limits per account (or per key), as a sliding window on the simulator's clock.

A provider's documented limit comes from its spec (`RateLimit`, e.g. EmpirioLabs 50 requests a minute
shared by every key of an account); providers that document none get the simulator's default, which is off
unless configured (`Simulator(default_rate_limit=(requests, per_seconds))` or a scenario's `[rate_limits]`).
Rejected requests do not count against the window, so a client that waits `Retry-After` gets through.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int
    per_seconds: float
    scope: str = "account"  # "account": shared by an account's keys; "key": each key alone

    def __post_init__(self) -> None:
        if self.requests < 1 or self.per_seconds <= 0:
            raise ValueError("a rate limit needs requests >= 1 and per_seconds > 0")


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, provider: str, holder: str, limit: Limit, now: float) -> int | None:
        """Count one request; None when admitted, else the whole seconds until one would be (Retry-After)."""
        with self._lock:
            window = self._windows.setdefault((provider, holder), deque())
            while window and window[0] <= now - limit.per_seconds:
                window.popleft()
            if len(window) >= limit.requests:
                return max(1, math.ceil(window[0] + limit.per_seconds - now))
            window.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
