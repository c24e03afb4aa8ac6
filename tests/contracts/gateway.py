"""A correct pass-through gateway (what a user puts in front of klingsim) and the servers around it.

`passthrough(upstream)` is a tiny ASGI app that forwards every request, headers and body unchanged, to the
upstream base URL and hands the answer back: the smallest gateway the kit must never fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL
from klingsim.server.app import KlingsimApp
from klingsim.server.run import ThreadedServer, listening_socket

_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


def passthrough(upstream: str) -> Any:
    """An ASGI app forwarding everything to `upstream` (a base URL without a trailing slash)."""
    client = httpx.AsyncClient(base_url=upstream, timeout=30.0)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await client.aclose()  # in the server's own loop, where its connections live
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k.decode() not in _HOP
        ]
        query = scope["query_string"].decode("latin-1")
        url = scope.get("raw_path", scope["path"].encode()).decode("latin-1") + (f"?{query}" if query else "")
        answer = await client.request(scope["method"], url, headers=headers, content=body)
        out = [(k.encode(), v.encode()) for k, v in answer.headers.items() if k.lower() not in _HOP]
        out.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": answer.content})

    return app


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Any ASGI app on a free loopback port in a background thread; yields its base URL."""
    sock = listening_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="auto"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the gateway thread died while starting")
            time.sleep(0.005)  # waiting for a server thread to listen, not for the simulator
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def sandwich() -> Iterator[tuple[str, str, Simulator]]:
    """A klingsim upstream (virtual clock) and a pass-through gateway in front of it: (gateway URL, upstream
    URL, the upstream's simulator)."""
    sim = Simulator(ALL, VirtualClock())
    upstream = ThreadedServer(KlingsimApp(sim))
    with upstream, serving(passthrough(upstream.url)) as gateway:
        yield gateway, upstream.url, sim
