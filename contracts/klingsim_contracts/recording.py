"""What a client sent and what it got: an ASGI middleware that records every exchange with the simulator.

Each entry is a JSON-able dict in the shape of the simulator's request journal (method, path, query, headers,
body, status, response, at) plus what the client checks need: the provider, the endpoint's action
(`create`, `status`, ... or `download`), the job id it names, the response headers and `t`, the time as the
*client* lives it (the virtual clock in-process, where sleeping advances it; wall time for a subprocess).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from klingsim.core.routing import Router
from klingsim.core.signing import OUTPUTS_PREFIX
from klingsim.core.simulator import Simulator
from klingsim_contracts.routing import Answer, AsgiApp, Message, Scope, run_asgi

_FILE = re.compile(rf"^{OUTPUTS_PREFIX}/(?P<provider>[\w-]+)/(?P<job>[\w.-]+)/\d+\.mp4$")
Hook = Callable[[dict[str, Any]], None]
Transform = Callable[[dict[str, Any], Answer], Answer]


def _json_or_text(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "json" in content_type or raw[:1] in (b"{", b"["):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    if content_type.startswith(("video/", "application/octet")):
        return f"<{len(raw)} bytes of {content_type}>"
    try:
        return raw.decode()[:2000]
    except UnicodeDecodeError:
        return f"<{len(raw)} bytes>"


class RecordingApp:
    """Wraps the simulator's ASGI app; `entries` are the exchanges, oldest first.

    `before` runs before an exchange reaches the app, `transforms` may change the answer the client gets (a
    lost answer, a shorter Retry-After) and `after` runs once it is recorded; all on the app's event loop.
    """

    def __init__(
        self,
        app: AsgiApp,
        sim: Simulator,
        client_time: Callable[[], float] | None = None,
        default_provider: str | None = None,
    ) -> None:
        self.app = app
        self.sim = sim
        self.client_time = client_time or sim.clock.now
        self.default_provider = default_provider
        self.entries: list[dict[str, Any]] = []
        self.before: list[Hook] = []
        self.transforms: list[Transform] = []
        self.after: list[Hook] = []
        self._routers = {pid: Router(rt.spec) for pid, rt in sim.runtimes.items()}
        self._lock = threading.Lock()

    def classify(self, method: str, path: str, query: dict[str, str]) -> dict[str, Any]:
        """Provider, provider-relative path, action and job id of a request path as the app sees it."""
        found = _FILE.match(path)
        if found is not None:
            return {"provider": found["provider"], "path": path, "action": "download", "job_id": found["job"]}
        first, _, rest = path[1:].partition("/")
        provider, local = (first, "/" + rest) if first in self._routers else (self.default_provider, path)
        info: dict[str, Any] = {"provider": provider, "path": local, "action": "other", "job_id": None}
        if provider is None or provider not in self._routers:
            return info
        match = self._routers[provider].match(method, local)
        if match is None or match.endpoint is None:
            return info
        endpoint = match.endpoint
        info["action"] = str(endpoint.action)
        if endpoint.id_param:
            source = match.path_params if endpoint.id_in == "path" else query
            info["job_id"] = source.get(endpoint.id_param)
        return info

    async def __call__(
        self, scope: Scope, receive: Callable[[], Any], send: Callable[[Message], Any]
    ) -> None:
        path = str(scope.get("path", ""))
        control = path.startswith("/_klingsim/") and not path.startswith(OUTPUTS_PREFIX + "/")
        if scope["type"] != "http" or control:
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qsl

        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        entry: dict[str, Any] = {
            "method": scope["method"],
            **self.classify(scope["method"], scope["path"], query),
            "query": query,
            "headers": headers,
            "body": _json_or_text(body, headers.get("content-type", "")),
        }
        for hook in self.before:
            hook(entry)
        entry["at"] = self.sim.clock.now()
        entry["t"] = self.client_time()
        answer = await run_asgi(self.app, scope, body)
        for transform in self.transforms:
            answer = transform(entry, answer)
        entry["status"] = answer.status
        entry["response_headers"] = dict(answer.headers)
        entry["response"] = _json_or_text(answer.body, entry["response_headers"].get("content-type", ""))
        with self._lock:
            self.entries.append(entry)
        for hook in self.after:
            hook(entry)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
