"""uvicorn's httptools protocol, answering most provider requests without an ASGI cycle.

uvicorn runs every request as an asyncio task that awaits the body, then writes the status line and headers
and the body in two writes. For a provider request whose body is already in when its last byte is parsed
(nearly all of them), that machinery costs as much as the simulator's own work. So once such a request is
complete, this protocol asks the app for its answer directly (`KlingsimApp.answer`) and writes it in one
write, with the same bytes uvicorn would send (its default `server` and `date` headers, `connection: close`
when the connection is not kept alive, no body for HEAD). Everything else goes the usual way, unchanged:
control-plane requests, downloads, inputs that need media work in a thread, injected latency (the answer is
then sent after an awaited sleep), pipelined requests behind an unfinished one, `Expect: 100-continue`,
bodies larger than a socket read, a client that does not read its answers (write buffer full), headers
uvicorn would refuse, and any access log at INFO level.

The request cycle object is still created by uvicorn (the connection hygiene of server.connections and
uvicorn's own keep-alive and shutdown logic read it); only its task is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from klingsim.server.app import Answer, Message, Receive, Scope, Send

# Answers a complete request at once, or None (having done nothing) to let the ASGI app answer it.
Responder = Callable[[Scope, bytes], Answer | None]


_NAMES_CHECKED: set[bytes] = set()  # header names that passed uvicorn's check (a handful: names are code's)
# Header values that passed it: content types and the like repeat in every answer (ids and lengths do not,
# hence the bound).
_VALUES_CHECKED: set[bytes] = set()
_MAX_VALUES_CHECKED = 1024


def _sendable(answer: Answer, head: bool) -> bool:
    """True when uvicorn would write this answer as it is (no check fails, no header of special meaning)."""
    for name, value in answer.headers:
        if name == b"content-length":
            if not head and value != b"%d" % len(answer.body):
                return False
            if head and not value.isdigit():
                return False
            continue
        if name not in _NAMES_CHECKED:
            if name in (b"connection", b"transfer-encoding") or HEADER_RE.search(name):
                return False
            _NAMES_CHECKED.add(name)
        if value not in _VALUES_CHECKED:
            if HEADER_VALUE_RE.search(value):
                return False
            if len(_VALUES_CHECKED) < _MAX_VALUES_CHECKED:
                _VALUES_CHECKED.add(value)
    return True


def _replay(answer: Answer) -> Callable[[Scope, Receive, Send], Any]:
    """An ASGI app sending a computed answer, after its injected latency: uvicorn's usual path."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if answer.delay:
            await asyncio.sleep(answer.delay)
        start: Message = {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        await send(start)
        await send({"type": "http.response.body", "body": answer.body})
        if answer.after is not None:
            answer.after()

    return app


def _raise(exc: Exception) -> Callable[[Scope, Receive, Send], Any]:
    """An ASGI app failing with `exc`: uvicorn then logs it and answers 500, as for any app error."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise exc

    return app


def fast_protocol(respond: Responder) -> type[HttpToolsProtocol]:
    """uvicorn's HttpToolsProtocol answering complete requests through `respond` when it can."""

    # uvicorn's default headers (`server`, `date`) as written, remade when uvicorn replaces their list
    # (once a second, for the date).
    defaults: list[Any] = [None, b""]

    class FastHttpToolsProtocol(HttpToolsProtocol):
        _waiting: tuple[RequestResponseCycle, Any] | None = None

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # uvicorn's access log writes a line per answer when enabled at INFO: keep its path then.
            self._fast = not (self.access_log and self.access_logger.isEnabledFor(logging.INFO))

        def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
            # `app` is uvicorn's own 503 app when its concurrency limit is reached: that one runs as is.
            fast = self._fast and app is self.app and cycle is self.cycle and cycle.more_body
            if fast and not self.expect_100_continue:
                self._waiting = (cycle, app)  # until its body is in: see on_message_complete
                return
            super()._start_asgi_task(cycle, app)

        def _start_waiting(self) -> None:
            waiting = self._waiting
            if waiting is not None:
                self._waiting = None
                super()._start_asgi_task(*waiting)

        def on_body(self, body: bytes) -> None:
            super().on_body(body)
            if self._waiting is not None and len(self.cycle.body) > HIGH_WATER_LIMIT // 4:
                self._start_waiting()  # a large body: the app reads it as it comes, with flow control

        def on_message_complete(self) -> None:
            super().on_message_complete()
            waiting = self._waiting
            if waiting is None:
                return
            cycle = waiting[0]
            if cycle is not self.cycle or cycle.response_complete or self.flow.write_paused:
                self._start_waiting()
                return
            try:
                answer = respond(cast(Scope, cycle.scope), bytes(cycle.body))
            except Exception as exc:  # a bug: never let the parser turn it into its own 400
                self._waiting = None
                super()._start_asgi_task(cycle, cast(Any, _raise(exc)))
                return
            if answer is None:
                self._start_waiting()
            elif answer.delay or not _sendable(answer, cycle.scope["method"] == "HEAD"):
                self._waiting = None
                super()._start_asgi_task(cycle, cast(Any, _replay(answer)))
            else:
                self._waiting = None
                self._write(cycle, answer)

        def _write(self, cycle: RequestResponseCycle, answer: Answer) -> None:
            """What RequestResponseCycle.send writes for this answer's start and body, in one write."""
            headers = self.server_state.default_headers
            if headers is not defaults[0]:
                defaults[1] = b"".join(b"%s: %s\r\n" % pair for pair in headers)
                defaults[0] = headers
            content = [STATUS_LINE[answer.status], defaults[1]]
            for name, value in answer.headers:
                content.extend((name, b": ", value, b"\r\n"))
            if not cycle.keep_alive:
                content.append(b"connection: close\r\n")
            content.append(b"\r\n")
            content.append(answer.body)
            cycle.response_started = True
            cycle.waiting_for_100_continue = False
            self.transport.write(b"".join(content))
            cycle.response_complete = True
            cycle.message_event.set()
            if not cycle.keep_alive:
                self.transport.close()
            self.on_response_complete()
            if answer.after is not None:
                try:
                    answer.after()
                except Exception as exc:  # as uvicorn does when an app fails after its answer
                    self.logger.error("Exception in ASGI application\n", exc_info=exc)
                    self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            # A request whose body never came in full: the app sees the disconnect, as it would have.
            self._start_waiting()
            super().connection_lost(exc)
            if self.timeout_keep_alive_task is not None:
                self.timeout_keep_alive_task.cancel()
                self.timeout_keep_alive_task = None

        # uvicorn's keep-alive timeout, with one timer per connection moved on lazily instead of a timer
        # scheduled after every answer and cancelled by the next request.
        _idle_since: float | None = None

        def _unset_keepalive_if_required(self) -> None:
            self._idle_since = None

        def on_response_complete(self) -> None:
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self._idle_since = None
            self.flow.resume_reading()
            if self.pipeline:
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
                return
            self._idle_since = now = self.loop.time()
            if self.timeout_keep_alive_task is None:
                self.timeout_keep_alive_task = self.loop.call_at(
                    now + self.timeout_keep_alive, self._keep_alive_check
                )

        def _keep_alive_check(self) -> None:
            self.timeout_keep_alive_task = None
            if self._idle_since is None:
                return  # a request is in progress; its answer arms the timer again
            due = self._idle_since + self.timeout_keep_alive
            if self.loop.time() < due:
                self.timeout_keep_alive_task = self.loop.call_at(due, self._keep_alive_check)
            else:
                self.timeout_keep_alive_handler()

    return FastHttpToolsProtocol
