"""Connection hygiene for the uvicorn server: read timeouts and a cap on open connections.

uvicorn times out idle keep-alive connections but not a request that is half sent: a client that opens a
connection and sends nothing, or headers without their end, or half a body, holds it (and a file
descriptor) forever, and enough of them exhaust the process's descriptors ("Too many open files", logged
once per failed accept). So each connection must finish its request headers within `header_timeout`
seconds (counted from the connection, or from the end of the previous answer's response) and its body
within `body_timeout` seconds after them, or it is closed. Time spent by the application answering
counts against neither.

Past `max_connections` open connections a new one gets a bare `503` with `Retry-After: 1` and is
closed; that is logged once when the cap is reached (with the fix), and again only after the count fell
back below 90 % of it.

It wraps whichever uvicorn HTTP protocol class is in use (h11, httptools): all keep the request in
progress as `cycle`, with `more_body` (body still arriving) and `response_complete`.
"""

from __future__ import annotations

import asyncio
import resource
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

from klingsim.server import gcpolicy

DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 4096
_RESERVED_FDS = 128  # descriptors kept for the database, logs, callbacks and media temp files

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
    b"connection: close\r\ncontent-length: 75\r\n\r\n"
    b'{"error":"too_many_connections","message":"klingsim is at its connection cap"}'
)


def raise_descriptor_limit() -> int:
    """Raise this process's soft limit on open files to the hard limit; returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_cap(wanted: int = DEFAULT_MAX_CONNECTIONS) -> int:
    """`wanted`, lowered to leave descriptors for everything else under the soft limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - _RESERVED_FDS))


@dataclass
class Hygiene:
    """Settings and counters shared by every connection of one server."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    log: TextIO = field(default_factory=lambda: sys.stderr)
    open: int = 0
    refused: int = 0
    timed_out: int = 0
    _full: bool = False

    def admit(self) -> bool:
        if self.open < self.max_connections:
            self.open += 1
            return True
        self.refused += 1
        if not self._full:
            self._full = True
            print(
                f"klingsim: {self.open} connections open, the cap: new connections get 503 until some close "
                "(clients should reuse connections; the cap follows the open-files limit, `ulimit -n`)",
                file=self.log,
                flush=True,
            )
        return False

    def release(self) -> None:
        self.open -= 1
        if self._full and self.open < self.max_connections * 0.9:
            self._full = False


def guarded_protocol(hygiene: Hygiene, http: str | type[asyncio.Protocol] = "auto") -> type[asyncio.Protocol]:
    """uvicorn's `http` protocol class (or the given class, a subclass of one) with `hygiene`'s timeouts
    and cap (pass it as Config(http=...))."""
    base: Any = import_from_string(HTTP_PROTOCOLS.get(http, http)) if isinstance(http, str) else http

    class Guarded(base):  # type: ignore[misc]
        _guard_refused = False
        _guard_timer: asyncio.TimerHandle | None = None
        _guard_phase = ""
        _guard_deadline = 0.0

        def connection_made(self, transport: asyncio.Transport) -> None:
            if not hygiene.admit():
                self._guard_refused = True
                transport.write(_BUSY)
                transport.close()
                return
            super().connection_made(transport)
            self._guard_update()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._guard_update()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            gcpolicy.answered()  # the served simulator's collections keep pace with its answers
            # The next request's headers are due from now, even when the last one was read and answered
            # within one data_received (the phase then looks unchanged).
            self._guard_phase = ""
            self._guard_update()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._guard_refused:
                return
            hygiene.release()
            self._guard_phase = ""
            if self._guard_timer is not None:
                self._guard_timer.cancel()
                self._guard_timer = None
            super().connection_lost(exc)
            # uvicorn's last request cycle refers back to the protocol (its on_response): dropping it leaves
            # no reference cycle, so the connection is freed when it closes, even once the server's GC
            # policy has frozen it (server.gcpolicy).
            self.cycle = None

        def _guard_update(self) -> None:
            cycle = getattr(self, "cycle", None)
            if cycle is None or cycle.response_complete:
                self._guard_arm("headers", hygiene.header_timeout)
            elif cycle.more_body:
                self._guard_arm("body", hygiene.body_timeout)
            else:
                self._guard_phase = ""  # the application has the request: its time is its own

        def _guard_arm(self, phase: str, seconds: float) -> None:
            if phase == self._guard_phase:
                return
            self._guard_phase = phase
            self._guard_deadline = deadline = self.loop.time() + seconds
            # One timer per connection, moved on lazily: a keep-alive connection answering thousands of
            # requests a second would otherwise schedule and cancel a timer for each.
            timer = self._guard_timer
            if timer is None or deadline < timer.when():
                if timer is not None:
                    timer.cancel()
                self._guard_timer = self.loop.call_at(deadline, self._guard_check)

        def _guard_check(self) -> None:
            self._guard_timer = None
            if not self._guard_phase:
                return  # the application is answering; the next phase arms a new timer
            if self.loop.time() < self._guard_deadline:
                self._guard_timer = self.loop.call_at(self._guard_deadline, self._guard_check)
                return
            self._guard_phase = ""
            hygiene.timed_out += 1
            self.transport.close()

    Guarded.__name__ = f"Guarded{base.__name__}"
    return Guarded
