"""Where the kit sends requests: a server over HTTP, or an ASGI app in process (both through httpx)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Mapping
from typing import Any, Protocol

import anyio.from_thread
import httpx

NO_BODY: Any = object()


class Target(Protocol):
    """A base URL the kit can talk to; `base_url` is what replay commands print."""

    base_url: str
    api_key: str | None

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = NO_BODY,
        content: bytes | None = None,
    ) -> httpx.Response: ...

    def fetch(self, url: str, method: str = "GET") -> httpx.Response: ...

    def close(self) -> None: ...


def body_kwargs(json: Any, content: bytes | None) -> dict[str, Any]:
    """httpx's keyword for a request's body: raw `content`, else `json` unless it was left out."""
    if content is not None:
        return {"content": content}
    if json is not NO_BODY:
        return {"json": json}
    return {}


class HttpTarget:
    """A server reached over HTTP, e.g. `HttpTarget("http://127.0.0.1:8000/kling3api")`."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        # TCP_NODELAY: httpx writes a POST's headers and body separately; with Nagle's algorithm and delayed
        # ACKs each request would wait ~40 ms on the second write.
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = NO_BODY,
        content: bytes | None = None,
    ) -> httpx.Response:
        return self._client.request(
            method,
            self.base_url + path,
            headers=dict(headers or {}),
            params=dict(params or {}),
            **body_kwargs(json, content),
        )

    def fetch(self, url: str, method: str = "GET") -> httpx.Response:
        return self._client.request(method, url)

    def close(self) -> None:
        self._client.close()


class AsgiTarget:
    """An ASGI app called in process; `base_url` may carry a mount prefix (`http://testserver/kling3api`).

    A blocking portal runs one event loop for the target's lifetime, so each request costs a round trip
    through the app and nothing more.
    """

    def __init__(self, app: Any, base_url: str = "http://testserver", api_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._app = app
        self._stack = contextlib.ExitStack()
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._client: httpx.AsyncClient | None = None

    def _ready(self) -> tuple[anyio.from_thread.BlockingPortal, httpx.AsyncClient]:
        if self._portal is None or self._client is None:
            self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
            transport = httpx.ASGITransport(app=self._app)
            self._client = httpx.AsyncClient(transport=transport, base_url=self.base_url)
        return self._portal, self._client

    async def _send(self, client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
        response = await client.request(method, url, **kw)
        await response.aread()
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = NO_BODY,
        content: bytes | None = None,
    ) -> httpx.Response:
        portal, client = self._ready()
        kw = {"headers": dict(headers or {}), "params": dict(params or {}), **body_kwargs(json, content)}
        return portal.call(lambda: self._send(client, method, self.base_url + path, **kw))

    def fetch(self, url: str, method: str = "GET") -> httpx.Response:
        portal, client = self._ready()
        return portal.call(lambda: self._send(client, method, url))

    def close(self) -> None:
        if self._portal is not None and self._client is not None:
            client = self._client
            self._portal.call(client.aclose)
        self._client = None
        self._portal = None
        self._stack.close()


def as_target(target: Target | str, api_key: str | None = None) -> Target:
    """A Target from a URL or an existing target."""
    return HttpTarget(target, api_key) if isinstance(target, str) else target
