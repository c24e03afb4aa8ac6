"""`klingsim serve`'s request log: one line per request, readable (default) or JSON (`--log-format json`).

A line: the simulator-clock time, the provider, method, path, status, the job id when the request names or
creates one, the wall-clock duration, and any near-miss hint. The app calls the log once per request, after
the answer was sent, so formatting never delays an answer. On a server's event loop the lines of one turn
of the loop (a busy server answers many requests per turn) are written together, in one write and one flush,
not once per line: a line still reaches the stream before the server reads any further request. The log
gathers them itself rather than leave it to the stream's buffer, which `PYTHONUNBUFFERED=1` (common in
containers) turns off: each line was then a system call of its own (measured under load: 8-22 % more
creates per second, and a lower p99, with the lines gathered).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterable
from typing import TextIO

from klingsim.core.clock import iso
from klingsim.core.hints import HEADER as HINT_HEADER
from klingsim.core.http import Response
from klingsim.core.simulator import Simulator

FORMATS = ("text", "json")
_MAX_WHAT = 4096
_ID_KEYS = ("id", "task_id", "job_id", "generation_id", "request_id")


def _job_id_in(body: object, depth: int = 0) -> str | None:
    """The job id an answer carries under a conventional key (`id`, `task_id`, ..., also inside `data`)."""
    if not isinstance(body, dict) or depth > 1:
        return None
    for key in _ID_KEYS:
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return _job_id_in(body.get("data"), depth + 1)


def _printable(text: str) -> str:
    """The text on one line, ASCII only: a path with an encoded newline must not forge a second log line."""
    if text.isascii() and text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")


def _hint(headers: Iterable[tuple[str, str]]) -> str | None:
    return next((v for k, v in headers if k.lower() == HINT_HEADER), None)


class RequestLog:
    """Writes one line per request to `stream` (stdout by default): at once outside an event loop, else the
    lines of each turn of the loop together."""

    def __init__(self, sim: Simulator, fmt: str = "text", stream: TextIO | None = None) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown log format {fmt!r}; choose one of: {', '.join(FORMATS)}")
        self.sim = sim
        self.json = fmt == "json"
        self.stream = stream if stream is not None else sys.stdout
        self._flush_due = False
        self._pending: list[str] = []  # lines of this turn of the event loop, written by _flush
        # The middle of a text line per provider, method and path: polls repeat the same few.
        self._what: dict[tuple[str | None, str, str], str] = {}

    def __call__(
        self,
        provider: str | None,
        method: str,
        path: str,
        status: int,
        response: Response | None,
        started: float,
    ) -> None:
        """Log one request; `response` is None for control-plane requests (no job id, no hint)."""
        duration_ms = (time.perf_counter() - started) * 1000
        job: str | None = None
        hint: str | None = None
        if response is not None:
            output = self.sim.output_path(path) if provider is None else None
            if output is not None:
                provider, job = output[0], output[1]
            elif status < 400:
                job = _job_id_in(response.body)
            hint = _hint(response.headers) if response.headers else None
        now = iso(self.sim.clock.now())
        if self.json:
            record = {
                "time": now,
                "provider": provider,
                "method": method,
                "path": path,
                "status": status,
                "job_id": job,
                "duration_ms": round(duration_ms, 3),
            }
            if hint:
                record["hint"] = hint
            line = json.dumps(record)
        else:
            what = self._what.get((provider, method, path))
            if what is None:
                what = f"{provider or '-':<11} {method:<6} {_printable(path)}"
                if len(self._what) < _MAX_WHAT:
                    self._what[(provider, method, path)] = what
            line = f"{now} {what} {status} {job or '-'} {duration_ms:.1f}ms"
            if hint:
                line += f"  hint: {hint}"
        self._pending.append(line)
        if self._flush_due:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._flush()
            return
        self._flush_due = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        lines, self._pending = self._pending, []
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stdout must not break answers
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
