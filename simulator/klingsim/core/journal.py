"""The request journal: a bounded ring buffer of what clients sent and what they got, as JSON-able dicts.

The client-mode contract checks read it to judge a client (did it send a valid body, stop polling at a
terminal state, wait `Retry-After`), so each entry keeps the parsed body and the clock time. Secrets are
redacted: only the last four characters of a key remain, enough to tell two keys apart.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from klingsim.core.clock import iso
from klingsim.core.http import Request, Response

DEFAULT_SIZE = 10_000
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key"})
_TEXT_LIMIT = 2048


def redact(value: str) -> str:
    """`Bearer sk-abc…wxyz` → `Bearer …wxyz`; a bare key → `…wxyz`."""
    scheme, _, token = value.strip().partition(" ")
    if not token:
        scheme, token = "", scheme
    hint = "…" + token[-4:] if len(token) > 8 else "…"
    return f"{scheme} {hint}" if scheme else hint


def _body(raw: bytes) -> tuple[Any, str | None]:
    if not raw:
        return None, None
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError):
        return None, raw[:_TEXT_LIMIT].decode("utf-8", "replace")


class Journal:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 0:
            raise ValueError("journal size must not be negative")
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._entries.maxlen or 0

    def record(
        self,
        provider: str | None,
        req: Request,
        response: Response,
        at: float,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        body, text = _body(req.body)
        headers = {k: (redact(v) if k in SECRET_HEADERS else v) for k, v in req.headers.items()}
        entry: dict[str, Any] = {
            "seq": 0,
            "at": at,
            "time": iso(at),
            "provider": provider,
            "method": req.method,
            "path": req.path,
            "query": dict(req.query),
            "headers": headers,
            "body": body,
            "status": response.status,
            "response": None if isinstance(response.body, bytes) else response.body,
            "response_headers": dict(response.headers),
        }
        if text is not None:
            entry["body_text"] = text
        if extra:
            entry.update(extra)
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            if self.size:
                self._entries.append(entry)
        return entry

    def entries(self, provider: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Entries (oldest first), optionally of one provider and after sequence number `since`."""
        with self._lock:
            found: Iterable[dict[str, Any]] = list(self._entries)
        return [e for e in found if e["seq"] > since and (provider is None or e["provider"] == provider)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
