"""Framework-free request and response values: the server adapter converts to and from these."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    origin: str  # scheme://host[:port] the client used, for absolute output URLs
    truncated: bool = False  # the body was over MAX_BODY_BYTES and was not read in full
    # The path prefix the provider's paths sit under in the client's URLs ("/fal" when mounted; "" at the
    # root or behind host routing, which the pytest plugin says with X-Forwarded-Prefix).
    mount: str = ""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: Any = None  # a JSON value, or bytes sent as they are
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"
    # Added latency (a fault): the ASGI adapter waits it out on a real clock only; the core never sleeps.
    delay: float = 0.0

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()
