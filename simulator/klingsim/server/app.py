"""The ASGI application: provider mounts answered by the core, control plane by FastAPI.

Provider traffic bypasses framework routing on purpose: the core routes from the spec, and every answer
(404, 405, bad JSON, oversized bodies) comes in the provider's own envelope, never a framework default.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import anyio
from anyio import to_thread

from klingsim.core.http import MAX_BODY_BYTES, Request, Response
from klingsim.core.openapi import openapi_document
from klingsim.core.signing import OUTPUTS_PREFIX
from klingsim.core.simulator import Simulator
from klingsim.server.control import control_app

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, reading at most MAX_BODY_BYTES + 1 bytes; True when it was larger."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"", True
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks), False


def _origin(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


async def _send(send: Send, response: Response, head: bool = False) -> None:
    body = response.encoded()
    # Lower-case names: ASGI servers expect them, and duplicates are then easy to see.
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if response.content_type:
        headers.append((b"content-type", response.content_type.encode()))
    if not any(k == b"content-length" for k, _ in headers):
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


class KlingsimApp:
    """Dispatches `/<provider>/...`, `/_klingsim/files/...`, `/_klingsim/...` and (with a default) `/...`."""

    def __init__(self, sim: Simulator, default_provider: str | None = None) -> None:
        if default_provider is not None and default_provider not in sim.runtimes:
            raise KeyError(f"unknown provider {default_provider!r}")
        self.sim = sim
        self.default_provider = default_provider
        self.control = control_app(sim)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.control(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(OUTPUTS_PREFIX + "/"):
            await self._provider(scope, receive, send, None, path, "")
            return
        if path.startswith("/_klingsim"):
            await self.control(scope, receive, send)
            return
        first, _, rest = path[1:].partition("/")
        if first in self.sim.runtimes:
            await self._provider(scope, receive, send, first, "/" + rest, "/" + first)
        elif self.default_provider is not None:
            await self._provider(scope, receive, send, self.default_provider, path, "")
        else:
            known = ", ".join(f"/{p}" for p in self.sim.runtimes)
            await _send(
                send, Response(404, {"error": "not_found", "message": f"No provider here; try {known}"})
            )

    async def _provider(
        self, scope: Scope, receive: Receive, send: Send, provider: str | None, path: str, mount: str
    ) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body, truncated = await _read_body(receive)
        query: dict[str, str] = {}
        raw_query = scope.get("query_string", b"").decode("latin-1")
        if raw_query:
            query = dict(parse_qsl(raw_query, keep_blank_values=True))
        method: str = scope["method"]
        # A proxy that maps a provider's own host onto its mount (the pytest plugin's host routing) says so
        # with X-Forwarded-Prefix: the client's URLs then carry that prefix, not the mount.
        prefix = headers.get("x-forwarded-prefix")
        public_mount = mount if prefix is None else prefix.rstrip("/")
        req = Request(method, path, query, headers, body, _origin(scope, headers), truncated, public_mount)
        if provider is None:
            response = await to_thread.run_sync(self.sim.download, req)
        elif path == "/openapi.json" and method == "GET":
            doc = openapi_document(self.sim.runtimes[provider].spec, req.origin + mount)
            response = Response(200, doc)
        else:
            response = self.sim.handle(provider, req)
        if response.delay and self.sim.clock.mode == "real":
            # Injected latency is waited out on a real clock only; a virtual clock records it in the journal.
            await anyio.sleep(response.delay)
        await _send(send, response, head=method == "HEAD" and provider is not None)


def create_app(
    sim: Simulator | None = None, default_provider: str | None = None, **options: Any
) -> KlingsimApp:
    """The ASGI app for a simulator (a new one over every provider, on a virtual clock, if none is given)."""
    if sim is None:
        from klingsim.providers import ALL

        sim = Simulator(ALL, **options)
    return KlingsimApp(sim, default_provider)
