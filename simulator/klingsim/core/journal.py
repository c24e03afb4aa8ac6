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

import json
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


# An entry as recorded: its cost, sequence number, provider, and either the finished dict or the raw pieces
# it is built from when it is first read (`_Raw`). Requests are many and reads few: summarising every body on
# the way in cost a quarter of a create, so small pieces are kept as they are and summarised when read.
_Raw = tuple[Any, ...]
_Slot = list[Any]  # [cost, seq, provider, dict | _Raw]
_RAW_HEADERS = 4096  # headers (or query) of at most this many characters are kept as they are until read


# Tuples of header (or query) names seen, each kept once: most clients send the same names every time.
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
_NO_PAIRS: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
_MAX_NAMES = 4096


def _deferred_texts(pairs: Mapping[str, str], secret: frozenset[str] = frozenset()) -> tuple[Any, int]:
    """Small pairs as (names, values) tuples, the names shared between entries (summarised when read:
    `_texts`), and about what they hold; else a (summary, characters) tuple made now."""
    if not pairs:  # most queries
        return _NO_PAIRS, 0
    if len(pairs) <= 64:
        chars = sum(map(len, pairs)) + sum(map(len, pairs.values())) + _NODE * len(pairs)
        if chars <= _RAW_HEADERS:
            names = tuple(pairs)
            shared = _NAMES.get(names)
            if shared is None:
                shared = names
                if len(_NAMES) < _MAX_NAMES:
                    _NAMES[names] = names
            return (shared, tuple(pairs.values())), chars
    kept = _texts(pairs, secret)
    return kept, kept[1]


def _texts_of(kept: tuple[Any, Any], secret: frozenset[str] = frozenset()) -> tuple[dict[str, str], int]:
    """What `_deferred_texts` kept, as the entry shows it."""
    if isinstance(kept[0], dict):
        return kept
    return _texts(dict(zip(*kept, strict=True)), secret)


def _deferred_body(raw: bytes) -> tuple[Any, int]:
    """A small body's bytes as they are (summarised when read), else its summary fields now."""
    if len(raw) <= ENTRY_BUDGET:
        return raw, 0
    return _body(raw)


def _deferred_response(response: Response) -> tuple[Any, int]:
    """A JSON answer's encoded bytes when small (the server sends the same bytes: `Response.encoded`
    keeps them), else its summary now; None for a file."""
    if isinstance(response.body, bytes) or response.body is None:
        return None, 0
    encoded = response.encoded()
    if len(encoded) <= ENTRY_BUDGET:
        # A copy: orjson's bytes keep the spare room of its write buffer (kilobytes for a short answer).
        return bytes(memoryview(encoded)), 0
    return _response(response)


def _build(seq: int, provider: str | None, raw: _Raw) -> tuple[dict[str, Any], int]:
    """The entry's dict and its cost, from what `Journal.record` kept."""
    at, method, path, query, headers, body, answer, status, response_headers, extra = raw
    if isinstance(body, bytes):
        body_fields, body_chars = _body(body)
    else:
        body_fields, body_chars = body
    if isinstance(answer, bytes):
        summary = _Summary(ENTRY_BUDGET)
        answer = summary.of(json.loads(answer))
        answer_chars = ENTRY_BUDGET - summary.left
    elif answer is None:
        answer_chars = 0
    else:
        answer, answer_chars = answer
    headers, header_chars = _texts_of(headers, SECRET_HEADERS)
    query, query_chars = _texts_of(query)
    entry: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "time": iso(at),
        "provider": provider,
        "method": method,
        "path": path,
        "query": query,
        "headers": headers,
        **body_fields,
        "status": status,
        "response": answer,
        "response_headers": dict(response_headers),
    }
    if extra:
        entry.update(extra)
    cost = 256 + len(path) + body_chars + answer_chars + header_chars + query_chars
    return entry, cost


class Journal:
    def __init__(self, size: int = DEFAULT_SIZE, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if size < 0:
            raise ValueError("journal size must not be negative")
        self._entries: deque[_Slot] = deque()
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
    ) -> int:
        """Keep the exchange; returns its sequence number. Small pieces are kept as they are (body bytes,
        header and query values) and summarised when the entry is first read; large ones are summarised now,
        so an entry never holds a whole large body."""
        if not self._size:
            with self._lock:
                self._seq += 1
                return self._seq
        body, body_chars = _deferred_body(req.body)
        answer, answer_chars = _deferred_response(response)
        headers, header_chars = _deferred_texts(req.headers, SECRET_HEADERS)
        query, query_chars = _deferred_texts(req.query)
        if not isinstance(body, bytes):
            body = (body, body_chars)
        else:
            body_chars = len(body)
        if isinstance(answer, bytes):
            answer_chars = len(answer)
        elif answer is not None:
            answer = (answer, answer_chars)
        path = req.path if len(req.path) <= TEXT_LIMIT else _cut(req.path, TEXT_LIMIT)
        method = req.method if len(req.method) <= 32 else _cut(req.method, 32)
        notes = dict(extra) if extra else None  # most requests have none: no empty dict kept each
        raw = (at, method, path, query, headers, body, answer, response.status, response.headers, notes)
        cost = 256 + len(path) + body_chars + answer_chars + header_chars + query_chars
        with self._lock:
            self._seq += 1
            seq = self._seq
            self._entries.append([cost, seq, provider, raw])
            self._bytes += cost
            if len(self._entries) > self._size or self._bytes > self._max_bytes:
                self._drop()
        return seq

    def _drop(self) -> None:
        while len(self._entries) > self._size or (self._bytes > self._max_bytes and self._entries):
            self._bytes -= self._entries.popleft()[0]

    def entries(self, provider: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Entries (oldest first), optionally of one provider and after sequence number `since`."""
        with self._lock:
            found: list[dict[str, Any]] = []
            for slot in self._entries:
                cost, seq, owner, kept = slot
                if seq <= since or (provider is not None and owner != provider):
                    continue
                if isinstance(kept, tuple):
                    kept, built_cost = _build(seq, owner, kept)
                    slot[0], slot[3] = built_cost, kept
                    self._bytes += built_cost - cost
                found.append(kept)
            self._drop()
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
