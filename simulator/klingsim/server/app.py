"""The ASGI application: provider mounts answered by the core, control plane by FastAPI.

Provider traffic bypasses framework routing on purpose: the core routes from the spec, and every answer
(404, 405, bad JSON, oversized bodies) comes in the provider's own envelope, never a framework default.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, MutableMapping
from time import perf_counter
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from klingsim.core import hints, inputs, restart
from klingsim.core.http import MAX_BODY_BYTES, Request, Response
from klingsim.core.signing import OUTPUTS_PREFIX
from klingsim.core.simulator import Simulator
from klingsim.server.guard import read_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# Called once per request after its answer went out: (provider, method, path, status, answer, start time);
# the answer is None for control-plane requests. `klingsim serve` passes its request log.
OnRequest = Callable[[str | None, str, str, int, Response | None, float], None]

HEALTH_PATH = "/_klingsim/health"
# What the control plane's health route answers (FastAPI's JSONResponse, same bytes and header order),
# answered here so a first health check does not wait for FastAPI to load.
_HEALTH_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-length", b"15"), (b"content-type", b"application/json")],
}
_HEALTH_BODY = {"type": "http.response.body", "body": b'{"status":"ok"}'}


def _origin(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _query(raw: str) -> dict[str, str]:
    """The query's fields, as `dict(parse_qsl(raw, keep_blank_values=True))` reads them (the last of a
    repeated name wins); without escapes (`%`, `+`) the fields are split here, at a fraction of its cost."""
    if "%" in raw or "+" in raw:
        return dict(parse_qsl(raw, keep_blank_values=True))
    query: dict[str, str] = {}
    for field in raw.split("&"):
        if field:
            name, _, value = field.partition("=")
            query[name] = value
    return query


_CONTENT_TYPES: dict[str, bytes] = {}


def _head(response: Response, body: bytes) -> list[tuple[bytes, bytes]]:
    """The answer's header list as ASGI wants it: lower-case names, a content type and a content length."""
    ctype = _CONTENT_TYPES.get(response.content_type)
    if ctype is None:
        ctype = _CONTENT_TYPES.setdefault(response.content_type, response.content_type.encode())
    if not response.headers:  # most answers
        if not ctype:
            return [(b"content-length", b"%d" % len(body))]
        return [(b"content-type", ctype), (b"content-length", b"%d" % len(body))]
    # Lower-case names: ASGI servers expect them, and duplicates are then easy to see.
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if ctype:
        headers.append((b"content-type", ctype))
    if all(k != b"content-length" for k, _ in headers):
        headers.append((b"content-length", b"%d" % len(body)))
    return headers


async def _send(send: Send, response: Response, head: bool = False) -> None:
    body = response.encoded()
    await send({"type": "http.response.start", "status": response.status, "headers": _head(response, body)})
    await send({"type": "http.response.body", "body": b"" if head else body})


class Answer(NamedTuple):
    """A provider's answer computed as soon as its request was read, for a server that writes it at once."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes  # empty for HEAD (the content length is the GET answer's)
    delay: float  # injected latency: wait this long before sending
    after: Callable[[], None] | None  # the request log's line, once the answer went out


def _run_all(work: list[Callable[[], object]]) -> None:
    for task in work:
        # Only a warm-up: the core redoes whatever failed here, and answers for it.
        with contextlib.suppress(Exception):
            task()


class KlingsimApp:
    """Dispatches `/<provider>/...`, `/_klingsim/files/...`, `/_klingsim/...` and (with a default) `/...`."""

    def __init__(
        self, sim: Simulator, default_provider: str | None = None, on_request: OnRequest | None = None
    ) -> None:
        if default_provider is not None and default_provider not in sim.runtimes:
            known = ", ".join(sim.runtimes)
            raise KeyError(f"unknown provider {default_provider!r}; choose one of: {known}")
        self.sim = sim
        self.default_provider = default_provider
        self.on_request = on_request
        self._control: ASGIApp | None = None
        restart.remember_once(sim)  # the start `POST /_klingsim/reset` goes back to, taken before any request

    @property
    def control(self) -> ASGIApp:
        """The control plane, built on its first request: loading FastAPI is most of a cold start."""
        if self._control is None:
            from klingsim.server.control import control_app

            self._control = control_app(self.sim)
        return self._control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.control(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(OUTPUTS_PREFIX + "/"):
            await self._provider(scope, receive, send, None, path, "")
            return
        if path.startswith("/_klingsim"):
            if path == HEALTH_PATH and scope["method"] == "GET":
                await send(dict(_HEALTH_START))
                await send(dict(_HEALTH_BODY))
                return
            if self.on_request is not None and scope["method"] != "GET":
                await self._logged_control(scope, receive, send)
            else:
                await self.control(scope, receive, send)
            return
        mounted = self._mounted(path)
        if mounted is not None:
            await self._provider(scope, receive, send, *mounted)
        else:
            await self._no_provider(scope, send, path[1:].partition("/")[0])

    def _mounted(self, path: str) -> tuple[str, str, str] | None:
        """(provider, path within it, its mount) of a provider request; None when no provider has the path."""
        first, _, rest = path[1:].partition("/")
        if first in self.sim.runtimes:
            return first, "/" + rest, "/" + first
        if self.default_provider is not None:
            return self.default_provider, path, ""
        return None

    async def _no_provider(self, scope: Scope, send: Send, first: str) -> None:
        started = perf_counter()
        known = ", ".join(f"/{p}" for p in self.sim.runtimes)
        near = hints.closest(first, self.sim.runtimes)
        headers = ((hints.HEADER, f"unknown provider; did you mean /{near}?"),) if near else ()
        response = Response(404, {"error": "not_found", "message": f"No provider here; try {known}"}, headers)
        await _send(send, response)
        if self.on_request is not None:
            self.on_request(None, scope["method"], scope["path"], 404, response, started)

    async def _logged_control(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A control-plane request that changes something, logged with its status."""
        started = perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.control(scope, receive, watch)
        if self.on_request is not None:
            self.on_request("_klingsim", scope["method"], scope["path"], status, None, started)

    def _request(self, scope: Scope, body: bytes, truncated: bool, path: str, mount: str) -> Request:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = _query(scope.get("query_string", b"").decode("latin-1"))
        # A proxy that maps a provider's own host onto its mount (the pytest plugin's host routing) says so
        # with X-Forwarded-Prefix: the client's URLs then carry that prefix, not the mount.
        prefix = headers.get("x-forwarded-prefix")
        public_mount = mount if prefix is None else prefix.rstrip("/")
        return Request(
            scope["method"], path, query, headers, body, _origin(scope, headers), truncated, public_mount
        )

    def _local(self, provider: str, req: Request, mount: str) -> Response:
        """The answer to a provider request whose inputs need no slow work (see inputs.prepare)."""
        if req.path == "/openapi.json" and req.method == "GET":
            from klingsim.core.openapi import openapi_document  # loaded on the first document asked for

            doc = openapi_document(self.sim.runtimes[provider].spec, req.origin + mount)
            return Response(200, doc)
        if req.path == "/docs" and req.method == "GET":
            from klingsim.server.docs import docs_page  # Swagger UI's files: only when a page is asked for

            title = f"{self.sim.runtimes[provider].spec.title} (klingsim)"
            page = docs_page(title, f"{mount}/openapi.json").encode()
            return Response(200, page, content_type="text/html; charset=utf-8")
        return self.sim.handle(provider, req)

    def answer(self, scope: Scope, body: bytes) -> Answer | None:
        """A provider request's answer, computed now from its whole body; None (having done nothing) when
        the request needs the event loop: a control-plane request, a download or media input work in a
        worker thread, or a proxy's X-Forwarded-Proto (uvicorn's proxy-headers middleware reads it).

        The server protocol (server.fastpath) calls this for most requests instead of running an ASGI
        cycle; what the client receives, the journal and the request log are the same either way."""
        path: str = scope["path"]
        if path.startswith("/_klingsim"):
            return None
        mounted = self._mounted(path)
        if mounted is None:
            return None
        provider, ppath, mount = mounted
        started = perf_counter()
        if len(body) > MAX_BODY_BYTES:
            return None
        req = self._request(scope, body, False, ppath, mount)
        if "x-forwarded-proto" in req.headers or inputs.prepare(self.sim, provider, req):
            return None
        response = self._local(provider, req, mount)
        encoded = response.encoded()
        method = req.method
        after = None
        if self.on_request is not None:
            after = functools.partial(
                self.on_request, provider, method, path, response.status, response, started
            )
        return Answer(
            response.status,
            _head(response, encoded),
            b"" if method == "HEAD" else encoded,
            response.delay,
            after,
        )

    async def _provider(
        self, scope: Scope, receive: Receive, send: Send, provider: str | None, path: str, mount: str
    ) -> None:
        started = perf_counter()
        body, truncated, _ = await read_body(receive)
        req = self._request(scope, body, truncated, path, mount)
        method = req.method
        if provider is None:
            from anyio import to_thread  # loaded on the first download: it adds to a cold start

            response = await to_thread.run_sync(self.sim.download, req)
        else:
            # Renders, probes and image decodes of the request's inputs run in a worker thread first, so
            # the core (on this loop) finds them cached and other clients are never held up by them.
            work = inputs.prepare(self.sim, provider, req)
            if work:
                from anyio import to_thread

                await to_thread.run_sync(_run_all, work)
            response = self._local(provider, req, mount)
        if response.delay:
            # Injected latency delays the answer on every clock (the journal also records it); awaited, so
            # other clients are answered meanwhile.
            await asyncio.sleep(response.delay)
        await _send(send, response, head=method == "HEAD" and provider is not None)
        if self.on_request is not None:
            self.on_request(provider, method, scope["path"], response.status, response, started)


def create_app(
    sim: Simulator | None = None, default_provider: str | None = None, **options: Any
) -> KlingsimApp:
    """The ASGI app for a simulator (a new one over every provider, on a virtual clock, if none is given)."""
    if sim is None:
        from klingsim.providers import ALL

        sim = Simulator(ALL, **options)
    return KlingsimApp(sim, default_provider)
