"""The request journal: a bounded ring buffer of what clients sent and what they got, as JSON-able dicts.

The client-mode contract checks read it to judge a client (did it send a valid body, stop polling at a
terminal state, wait `Retry-After`), so each entry keeps a summary of the parsed body and the clock time.
Secrets are redacted: only the last four characters of a key remain, enough to tell two keys apart.

Bounded whoever sends what, refused requests included: an entry never keeps a whole body. Bodies up to
`PARSE_LIMIT` bytes that are clean JSON (core.edge) are kept as a summary of at most `ENTRY_BUDGET`
characters (long strings cut, long lists and objects ended by a "…" marker); anything else keeps a text
excerpt of `TEXT_LIMIT` characters. A cut entry says so (`body_truncated`, `body_bytes`). The journal
drops its oldest entries when it holds `size` entries or about `max_bytes` of them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from klingsim.core import edge
from klingsim.core.clock import iso
from klingsim.core.http import Request, Response

DEFAULT_SIZE = 10_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key"})
PARSE_LIMIT = 64 * 1024  # larger bodies are not parsed again for the journal: an excerpt is kept
ENTRY_BUDGET = 8 * 1024  # characters of body (and of response) summary per entry
STRING_LIMIT = 512  # characters kept of one string (a base64 image, a long prompt)
TEXT_LIMIT = 2048  # characters kept of a body that is not clean JSON
_NODE = 8  # what one value costs the budget besides its text


def redact(value: str) -> str:
    """`Bearer sk-abc…wxyz` → `Bearer …wxyz`; a bare key → `…wxyz`."""
    scheme, _, token = value.strip().partition(" ")
    if not token:
        scheme, token = "", scheme
    hint = "…" + token[-4:] if len(token) > 8 else "…"
    return f"{scheme} {hint}" if scheme else hint


def _cut(text: str, limit: int = STRING_LIMIT) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…[{len(text)} chars]"


class _Summary:
    """A copy of a JSON value holding at most `budget` characters; `used` and `cut` say what it took."""

    def __init__(self, budget: int) -> None:
        self.left = budget
        self.cut = False

    def of(self, value: Any) -> Any:
        self.left -= _NODE
        if isinstance(value, str):
            kept = _cut(value, max(0, min(STRING_LIMIT, self.left)))
            self.cut |= kept is not value
            self.left -= len(kept)
            return kept
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for index, (key, inner) in enumerate(value.items()):
                if self.left <= 0:
                    out["…"] = f"{len(value) - index} more keys"
                    self.cut = True
                    break
                name = _cut(str(key), 64)
                self.left -= len(name)
                out[name] = self.of(inner)
            return out
        if isinstance(value, list):
            items: list[Any] = []
            for index, inner in enumerate(value):
                if self.left <= 0:
                    items.append(f"…[{len(value) - index} more items]")
                    self.cut = True
                    break
                items.append(self.of(inner))
            return items
        return value  # numbers, booleans, null


def _body(raw: bytes) -> tuple[dict[str, Any], int]:
    """The entry's body fields and the characters they hold."""
    if not raw:
        return {"body": None}, 0
    if len(raw) <= PARSE_LIMIT:
        try:
            value = edge.parse_json(raw)
        except edge.EdgeError:
            pass
        else:
            summary = _Summary(ENTRY_BUDGET)
            kept = summary.of(value)
            fields: dict[str, Any] = {"body": kept}
            if summary.cut:
                fields.update(body_truncated=True, body_bytes=len(raw))
            return fields, ENTRY_BUDGET - summary.left
    text = raw[:TEXT_LIMIT].decode("utf-8", "replace")
    fields = {"body": None, "body_text": text}
    if len(raw) > TEXT_LIMIT:
        fields.update(body_truncated=True, body_bytes=len(raw))
    return fields, len(text)


def _response(response: Response) -> tuple[Any, int]:
    if isinstance(response.body, bytes) or response.body is None:
        return None, 0
    summary = _Summary(ENTRY_BUDGET)
    return summary.of(response.body), ENTRY_BUDGET - summary.left


def _texts(pairs: Mapping[str, str], secret: frozenset[str] = frozenset()) -> tuple[dict[str, str], int]:
    kept = {_cut(k, 128): _cut(redact(v) if k in secret else v) for k, v in list(pairs.items())[:64]}
    return kept, sum(len(k) + len(v) + _NODE for k, v in kept.items())


class Journal:
    def __init__(self, size: int = DEFAULT_SIZE, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if size < 0:
            raise ValueError("journal size must not be negative")
        self._entries: deque[tuple[int, dict[str, Any]]] = deque()
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._seq = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._size

    @property
    def bytes(self) -> int:
        """About how many characters the kept entries hold."""
        return self._bytes

    def record(
        self,
        provider: str | None,
        req: Request,
        response: Response,
        at: float,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        body, body_chars = _body(req.body)
        answer, answer_chars = _response(response)
        headers, header_chars = _texts(req.headers, SECRET_HEADERS)
        query, query_chars = _texts(req.query)
        entry: dict[str, Any] = {
            "seq": 0,
            "at": at,
            "time": iso(at),
            "provider": provider,
            "method": _cut(req.method, 32),
            "path": _cut(req.path, TEXT_LIMIT),
            "query": query,
            "headers": headers,
            **body,
            "status": response.status,
            "response": answer,
            "response_headers": dict(response.headers),
        }
        if extra:
            entry.update(extra)
        cost = 256 + len(entry["path"]) + body_chars + answer_chars + header_chars + query_chars
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            if self._size:
                self._entries.append((cost, entry))
                self._bytes += cost
                while len(self._entries) > self._size or (self._bytes > self._max_bytes and self._entries):
                    dropped, _ = self._entries.popleft()
                    self._bytes -= dropped
        return entry

    def entries(self, provider: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Entries (oldest first), optionally of one provider and after sequence number `since`."""
        with self._lock:
            found = [entry for _, entry in self._entries]
        return [e for e in found if e["seq"] > since and (provider is None or e["provider"] == provider)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
