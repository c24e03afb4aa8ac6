"""The server's fast path (server.fastpath) writes the very bytes uvicorn's ASGI path writes, in order,
and keeps the connection hygiene: a kept-alive connection's next headers are due from its last answer."""

from __future__ import annotations

import gc
import json
import re
import socket
import time
import weakref
from urllib.parse import parse_qsl

import pytest

from klingsim.core.faults import FaultSpec
from klingsim.providers import kling3api
from klingsim.server.app import Answer, Scope, _query
from klingsim.server.connections import Hygiene
from klingsim.server.requestlog import RequestLog
from klingsim.server.run import ThreadedServer
from tests.support import SimClient

KEY = "k3a_live_0123456789abcdef"
CREATE = json.dumps({"type": "pro-text-to-video", "prompt": "A cinematic shot", "duration": 5}).encode()


def raw(method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {KEY}\r\n{extra}"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


# Pipelined on one connection: creates, a status, HEAD, unknown routes, bad JSON, a bad query, a
# near-miss hint, the OpenAPI document, then a closing request. The first status has injected latency.
REQUESTS = [
    raw("POST", "/kling3api/api/generate", CREATE),
    raw("GET", "/kling3api/api/status?task_id=n75000000000000"),
    raw("HEAD", "/kling3api/api/status?task_id=n75000000000000"),
    raw("POST", "/kling3api/api/generate", b"{not json"),
    raw("GET", "/kling3api/api/statuss"),
    raw("GET", "/nowhere/x"),
    raw("GET", "/kling3api/api/status?task_id=%E2%82%AC&x=1+2"),
    raw("GET", "/kling3api/openapi.json"),
    raw("POST", "/kling3api/api/generate", CREATE, "Connection: close\r\n"),
]


def exchange(fast: bool, pipelined: bool) -> tuple[bytes, list[str], int]:
    """The bytes the server sent (dates masked), its request-log lines, and how many answers the fast
    path computed."""
    client = SimClient([kling3api.SPEC])
    computed = 0
    answer = client.app.answer

    def counted(scope: Scope, body: bytes) -> Answer | None:
        nonlocal computed
        result = answer(scope, body)
        computed += result is not None
        return result

    client.app.answer = counted  # type: ignore[method-assign]
    client.sim.faults.add(FaultSpec("kling3api", "status", latency_ms=50, count=1))
    lines: list[str] = []

    class Lines:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    client.app.on_request = RequestLog(client.sim, "json", Lines())  # type: ignore[arg-type]
    with ThreadedServer(client.app, fast=fast) as server:
        host, port = server.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        if pipelined:
            sock.sendall(b"".join(REQUESTS))
        answers = b""
        for request in [] if pipelined else REQUESTS:
            start = len(answers)
            sock.sendall(request)
            while not _complete(answers[start:], request.startswith(b"HEAD")):
                answers += sock.recv(65536)
        while chunk := sock.recv(65536):  # until the server closes the connection
            answers += chunk
        sock.close()
    answers = re.sub(rb"date: [^\r]*\r\n", b"date: -\r\n", answers)
    records = [json.loads(line) for line in "".join(lines).splitlines()]
    logged = [f"{r['method']} {r['path']} {r['status']} {r['job_id']}" for r in records]
    return answers, logged, computed


def _complete(answers: bytes, head: bool) -> bool:
    """True once the answer in `answers` arrived whole (its headers, and its body unless HEAD)."""
    top, sep, body = answers.partition(b"\r\n\r\n")
    length = re.search(rb"content-length: (\d+)", top)
    return bool(sep) and (head or length is None or len(body) >= int(length.group(1)))


def test_the_fast_path_sends_what_the_asgi_path_sends() -> None:
    for pipelined in (False, True):
        fast, fast_log, computed = exchange(True, pipelined)
        slow, slow_log, none = exchange(False, pipelined)
        # Pipelined, the requests behind the delayed one wait for it and then go the ASGI way.
        assert none == 0 and computed == (2 if pipelined else len(REQUESTS) - 1)
        assert fast.count(b"HTTP/1.1 ") == len(REQUESTS)
        assert fast == slow
        assert fast_log == slow_log and len(fast_log) == len(REQUESTS)
    assert b"connection: close" in fast and b"x-klingsim-hint" in fast


def test_a_kept_alive_connection_is_closed_when_its_next_headers_are_late() -> None:
    client = SimClient([kling3api.SPEC])
    with ThreadedServer(client.app, hygiene=Hygiene(header_timeout=1.0)) as server:
        host, port = server.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=5)
        for _ in range(6):  # busy for longer than the header timeout, answered at once each time
            sock.sendall(raw("GET", "/kling3api/api/status?task_id=n1"))
            assert sock.recv(65536).startswith(b"HTTP/1.1 404")
            time.sleep(0.25)
        sock.sendall(b"GET /kling3api/api/status HTTP/1.1\r\n")  # then headers that never end
        started = time.perf_counter()
        assert sock.recv(65536) == b""
        assert 0.5 < time.perf_counter() - started < 3
        sock.close()
        assert server.hygiene.timed_out == 1


@pytest.mark.parametrize("fast", [True, False])
def test_a_closed_connection_is_freed_without_the_collector(fast: bool) -> None:
    # The GC policy freezes what lives through middle collections, connections too: a closed one must then
    # be freed by reference counting alone, so its protocol may be part of no reference cycle.
    client = SimClient([kling3api.SPEC])
    with ThreadedServer(client.app, fast=fast) as server:
        host, port = server.url.removeprefix("http://").split(":")
        connections = server._server.server_state.connections
        collecting = gc.isenabled()
        gc.disable()
        try:
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(raw("GET", "/kling3api/api/status?task_id=n1"))
            assert sock.recv(65536).startswith(b"HTTP/1.1 404")
            protocol = weakref.ref(next(iter(connections)))
            sock.close()
            deadline = time.monotonic() + 5
            while (connections or protocol() is not None) and time.monotonic() < deadline:
                time.sleep(0.01)  # the server thread sees the close
            assert protocol() is None
        finally:
            if collecting:
                gc.enable()


def test_query_fields_are_read_as_parse_qsl_reads_them() -> None:
    queries = [
        "",
        "a=1",
        "a=1&b=",
        "a",
        "a&&b=2",
        "=x",
        "a=b=c",
        "a=1&a=2",
        "a=%E2%82%AC",
        "a=1+2",
        "&",
        "a;b=1",
    ]
    for raw in queries:
        assert _query(raw) == dict(parse_qsl(raw, keep_blank_values=True)), raw


def test_a_failing_answer_is_uvicorns_500_on_both_paths() -> None:
    answers = []
    for fast in (True, False):
        client = SimClient([kling3api.SPEC])

        def broken(*args: object) -> object:
            raise RuntimeError("a bug")

        client.sim.handle = broken  # type: ignore[method-assign,assignment]
        with ThreadedServer(client.app, fast=fast) as server:
            host, port = server.url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(raw("GET", "/kling3api/api/status?task_id=n1", extra="Connection: close\r\n"))
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
        answers.append(re.sub(rb"date: [^\r]*\r\n", b"", answer))
    assert answers[0] == answers[1]
    assert answers[0].startswith(b"HTTP/1.1 500") and answers[0].endswith(b"Internal Server Error")
