"""The control plane's edge: bodies capped in size and checked by core.edge before FastAPI parses them.

FastAPI reads a body whole and accepts JSON Python accepts (NaN, lone surrogates, any nesting); a value
that can't be written back as JSON would then 500 every answer that shows it (a fault's message, a forced
failure's message, an account name). This middleware answers such bodies with the control plane's 400
(413 when too large) and hands every other body on unchanged. `read_body`, the bounded read it uses, is the
provider routes' too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from klingsim.core import edge
from klingsim.core.http import MAX_BODY_BYTES, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = Response(status, {"error": code, "message": message}).encoded()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> tuple[bytes, bool, bool]:
    """The request body, reading at most MAX_BODY_BYTES + 1 bytes: (body, it was larger, the client left;
    then the body is what came before)."""
    message = await receive()
    chunk: bytes = message.get("body", b"")
    if message["type"] == "http.disconnect":
        return b"", False, True
    if not message.get("more_body", False):
        # The usual case: the whole body came in one message.
        return (b"", True, False) if len(chunk) > MAX_BODY_BYTES else (chunk, False, False)
    chunks = [chunk]
    size = len(chunk)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False, True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"", True, False
        chunks.append(chunk)
    return b"".join(chunks), False, False


class EdgeGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        body, too_large, gone = await read_body(receive)
        if gone:
            return
        if too_large:
            await _answer(send, 413, "body_too_large", f"bodies are at most {MAX_BODY_BYTES} bytes")
            return
        if body.strip():
            try:
                edge.parse_json(body)
            except edge.EdgeError as refused:
                await _answer(send, 400, "invalid_request", refused.message)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
