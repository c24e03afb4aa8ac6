"""Connection hygiene: half-sent requests are closed after their read timeout, the connection cap answers
503 and says so once in the log, and answers being worked on are never cut short."""

from __future__ import annotations

import io
import socket
import time

from klingsim.core.faults import FaultSpec
from klingsim.providers import kling3api
from klingsim.server.connections import Hygiene
from klingsim.server.run import ThreadedServer
from tests.support import SimClient

STATUS = (
    b"GET /kling3api/api/status?task_id=n1 HTTP/1.1\r\nHost: t\r\n"
    b"Authorization: Bearer k3a_live_0123456789abcdef\r\n"
)


def served(**hygiene: object) -> ThreadedServer:
    client = SimClient([kling3api.SPEC])
    return ThreadedServer(client.app, hygiene=Hygiene(**hygiene))  # type: ignore[arg-type]


def connect(server: ThreadedServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (None when it stayed open that long)."""
    started = time.perf_counter()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.perf_counter() - started


def test_half_sent_headers_and_bodies_and_silent_connections_are_closed() -> None:
    with served(header_timeout=0.3, body_timeout=0.5) as server:
        silent = connect(server)
        headers = connect(server)
        headers.sendall(STATUS)  # no blank line: the headers never end
        body = connect(server)
        body.sendall(
            b"POST /kling3api/api/generate HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"type":'
        )
        for sock in (silent, headers, body):
            took = closed_within(sock, 3)
            sock.close()
            assert took is not None and took < 2
        assert server.hygiene.timed_out == 3
        assert server.hygiene.open == 0


def test_a_slow_answer_is_not_cut_by_the_read_timeouts() -> None:
    with served(header_timeout=0.2, body_timeout=0.2) as server:
        server.app.sim.faults.add(FaultSpec("kling3api", "status", latency_ms=600))
        sock = connect(server)
        sock.sendall(STATUS + b"\r\n")
        sock.settimeout(5)
        answer = sock.recv(4096)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 ")
        assert server.hygiene.timed_out == 0


def test_past_the_cap_new_connections_get_503_and_one_log_line() -> None:
    log = io.StringIO()
    with served(max_connections=3, log=log) as server:
        held = [connect(server) for _ in range(3)]
        time.sleep(0.2)  # let the server accept them (wall time of the socket layer, not the simulator)
        refused = []
        for _ in range(5):
            sock = connect(server)
            sock.settimeout(5)
            refused.append(sock.recv(4096))
            sock.close()
        assert all(r.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in r for r in refused)
        assert server.hygiene.refused == 5
        assert log.getvalue().count("\n") == 1 and "connections open, the cap" in log.getvalue()
        for sock in held:
            sock.close()
        deadline = time.monotonic() + 5
        while server.hygiene.open and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.hygiene.open == 0
        fresh = connect(server)
        fresh.sendall(STATUS + b"\r\n")
        fresh.settimeout(5)
        answer = fresh.recv(4096)
        fresh.close()
        assert answer.startswith(b"HTTP/1.1 404")  # the simulator's own answer: no such task
