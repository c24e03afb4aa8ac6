"""The background worker of a served simulator: applies due transitions and runs due callback attempts.

On a real clock nothing else would move a job no one polls, nor deliver its callback; requests never wait
for a delivery because attempts run here, on this thread, never on a request path.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Tickable(Protocol):
    def tick(self) -> int: ...


class Ticker:
    def __init__(self, sim: Tickable, interval: float = 0.2) -> None:
        self.sim = sim
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="klingsim-ticker", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sim.tick()
            except Exception as exc:  # keep ticking; a broken tick must not stop every later callback
                print(f"klingsim: background tick failed: {exc!r}", flush=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
