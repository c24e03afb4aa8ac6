"""Route httpx (sync and async) and `requests` traffic for the real provider hosts to an in-process ASGI app.

Code under test keeps its real base URLs (`https://kling3api.com/api/generate`); while a `TrafficRouter` is
active, a request to a provider host is answered by the simulator's ASGI app under `/<provider>/...`, and a
request for an output file (`/_klingsim/files/...`, on whatever host the output URL names) is answered as a
download. Loopback hosts pass through untouched (a `klingsim_server`, a local service); any other host is
refused with a connection error and remembered, so the plugin can fail the test for it.

How each library is reached (toolchain.md item 9): httpx through respx (which patches httpx's transports, for
sync and async clients alike); `requests` by patching `HTTPAdapter.send`. The app runs in an anyio blocking
portal (an event loop in a helper thread), so the same bridge serves sync callers, async callers and sync
calls made from inside a running event loop. This module never imports `klingsim.server`: it is handed an
ASGI app.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from klingsim.spec import ProviderSpec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
AsgiApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

OUTPUTS_PREFIX = "/_klingsim/files"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def provider_hosts(specs: Iterable[ProviderSpec]) -> dict[str, str]:
    """Host name → provider id, from each spec's `hosts` and the host of its `base_url`."""
    return {host: provider for host, (provider, _) in host_routes(specs).items()}


def host_routes(specs: Iterable[ProviderSpec]) -> dict[str, tuple[str, str]]:
    """Host name → (provider id, path prefix under its mount). A spec's host entry may carry a prefix:
    `fal.run/run` sends fal's synchronous host to `/fal/run/...`; `queue.fal.run` goes to `/fal/...`."""
    routes: dict[str, tuple[str, str]] = {}
    for spec in specs:
        names = [*spec.hosts, urlsplit(spec.base_url).hostname or ""]
        extra = getattr(spec.urls, "hosts", ())  # output hosts, if a spec ever declares a separate CDN
        names.extend(extra if isinstance(extra, tuple) else ())
        for name in names:
            host, slash, prefix = name.partition("/")
            if host:
                routes.setdefault(host.lower(), (spec.id, slash + prefix.rstrip("/")))
    return routes


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(slots=True)
class Refused:
    """A request to a host that is neither a provider's nor loopback."""

    method: str
    url: str


async def call_asgi(
    app: AsgiApp, method: str, url: str, path: str, headers: list[tuple[str, str]], body: bytes
) -> Answer:
    """One HTTP exchange with an ASGI app, `path` replacing the URL's path (the query is kept)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": parts.scheme or "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": parts.query.encode("latin-1"),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "server": (parts.hostname or "", port),
        "client": ("127.0.0.1", 50000),
    }
    return await run_asgi(app, scope, body)


async def run_asgi(app: AsgiApp, scope: Scope, body: bytes) -> Answer:
    """Run one request through an ASGI app and collect the whole answer (header names lower-cased)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 500
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers.extend((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in message["headers"])
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, send)
    return Answer(status, headers, b"".join(chunks))


@dataclass
class TrafficRouter:
    """Sends provider traffic to `app` while active (`with router:`); records refused requests."""

    app: AsgiApp
    specs: tuple[ProviderSpec, ...]
    hosts: dict[str, str] = field(init=False)
    routes: dict[str, tuple[str, str]] = field(init=False)
    refused: list[Refused] = field(default_factory=list)
    guard: Callable[[], None] | None = None  # runs before each routed request, in the caller's thread
    _stack: ExitStack | None = None
    _portal: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.routes = host_routes(self.specs)
        self.hosts = {host: provider for host, (provider, _) in self.routes.items()}

    # ----------------------------------------------------------------- decisions
    def target_path(self, url: str) -> str | None:
        """The app path a URL goes to, or None when the host is not a provider's."""
        parts = urlsplit(url)
        route = self.routes.get((parts.hostname or "").lower())
        if route is None:
            return None
        provider, prefix = route
        path = parts.path or "/"
        return path if path.startswith(OUTPUTS_PREFIX + "/") else f"/{provider}{prefix}{path}"

    def is_loopback(self, url: str) -> bool:
        return (urlsplit(url).hostname or "").lower() in LOOPBACK

    def refuse(self, method: str, url: str) -> str:
        with self._lock:
            self.refused.append(Refused(method, url))
        known = ", ".join(sorted(self.hosts))
        return f"klingsim: {method} {url} goes to a host that is not a provider's ({known}) nor loopback"

    def exchange(
        self, method: str, url: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> Answer:
        """Run one request through the app on the portal's event loop (safe from any thread or loop)."""
        if self._portal is None:
            raise RuntimeError("the klingsim traffic router is not active")
        if self.guard is not None:
            self.guard()
        if not path.startswith(OUTPUTS_PREFIX + "/"):
            # The client's URLs have no mount: links the provider answers (fal's status_url) must not either.
            headers = [*headers, ("x-forwarded-prefix", "/")]
        answer: Answer = self._portal.call(call_asgi, self.app, method, url, path, headers, body)
        return answer

    # ----------------------------------------------------------------- activation
    def __enter__(self) -> TrafficRouter:
        from anyio.from_thread import start_blocking_portal

        stack = ExitStack()
        try:
            self._portal = stack.enter_context(start_blocking_portal())
            stack.enter_context(self._httpx())
            stack.enter_context(self._requests())
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def __exit__(self, *exc: object) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()
        self._portal = None

    @contextmanager
    def _httpx(self) -> Iterator[None]:
        import httpx
        import respx

        def answer(request: httpx.Request) -> httpx.Response | httpx.Request:
            url = str(request.url)
            path = self.target_path(url)
            if path is None:
                if self.is_loopback(url):
                    return request  # respx: pass through to the real transport
                raise httpx.ConnectError(self.refuse(request.method, url), request=request)
            got = self.exchange(
                request.method, url, path, list(request.headers.multi_items()), request.read()
            )
            return httpx.Response(got.status, headers=got.headers, content=got.body, request=request)

        with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
            mock.route().mock(side_effect=answer)
            yield

    @contextmanager
    def _requests(self) -> Iterator[None]:
        try:
            import requests
            from requests.adapters import HTTPAdapter
        except ImportError:  # requests is optional: nothing to route
            yield
            return
        from unittest import mock

        from urllib3 import HTTPHeaderDict, HTTPResponse

        original = HTTPAdapter.send
        router = self

        def send(
            adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any
        ) -> requests.Response:
            url = request.url or ""
            method = request.method or "GET"
            path = router.target_path(url)
            if path is None:
                if router.is_loopback(url):
                    return original(adapter, request, *args, **kwargs)
                raise requests.ConnectionError(router.refuse(method, url), request=request)
            got = router.exchange(method, url, path, _str_headers(request.headers), _body_bytes(request.body))
            raw = HTTPResponse(
                body=io.BytesIO(got.body),
                headers=HTTPHeaderDict(got.headers),
                status=got.status,
                preload_content=False,
                decode_content=False,
            )
            return adapter.build_response(request, raw)

        with mock.patch.object(HTTPAdapter, "send", send):
            yield


def _str_headers(headers: Mapping[str, str | bytes]) -> list[tuple[str, str]]:
    return [(k, v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in headers.items()]


def _body_bytes(body: object) -> bytes:
    """A prepared `requests` body as bytes (str, bytes, or an iterable of chunks for streamed uploads)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "read"):
        data = body.read()
        return data.encode() if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):
        return b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in body)
    raise TypeError(f"cannot send a request body of type {type(body).__name__}")
