"""Framework-free request and response values: the server adapter converts to and from these."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

MAX_BODY_BYTES = 1024 * 1024

# orjson writes floats below 1e-4 or from 1e16 up differently from `json` (`1e-5` for `1e-05`, `1e16` for
# `1e+16`, `0.00001234` for `1.234e-05`): an answer with such a number is written by `json` instead. Numbers
# are looked for outside strings only (`_outside_strings`), where a digit followed by an exponent sign or a
# `0.0000` can be nothing else; Python's `re` takes ~13 ns a byte, so the strings are cut out first.
_EXPONENT = re.compile(rb"[0-9][eE]")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789E", b"000000000e")
_NUMBER_START = frozenset(b"-0123456789")
# What orjson would serialise but `json` refuses: those answers go to `json` too, and fail the same way.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, byte for byte what `json.dumps(value, separators=(",", ":"),
    ensure_ascii=False)` writes: orjson where the two agree (key order, separators, escapes, non-ASCII,
    floats between 1e-4 and 1e16), `json` for the rest (other floats, non-string keys, integers beyond
    64 bits, types orjson does not take). Non-finite floats never reach an answer: bodies are refused with
    them on the way in."""
    try:
        out = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return exact_json(value)
    if out[0] in _NUMBER_START:
        return exact_json(value)
    # Most answers have no digit before an `e` and no `0.0000` anywhere (a C-speed test); the rest are
    # looked at closely.
    marked = out.translate(_DIGITS_AS_ZERO)
    if (b"0e" in marked or b"0.0000" in marked) and _float_forms_differ(_outside_strings(out)):
        return exact_json(value)
    return out


def _float_forms_differ(numbers: bytes) -> bool:
    if b"0.0000" in numbers:
        return True
    # `e` outside strings is an exponent or part of true/false; the slower search tells them apart.
    return (b"e" in numbers or b"E" in numbers) and _EXPONENT.search(numbers) is not None


def _outside_strings(out: bytes) -> bytes:
    """The JSON text with its strings cut out; all of it when a string holds an escape (an escaped quote
    would shift which parts are strings)."""
    if b"\\" in out:
        return out
    return b"".join(out.split(b'"')[::2])


def exact_json(value: Any) -> bytes:
    """The reference form, written by the standard library."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# Request, Response and JobView are made for every request and treated as values, but not frozen: a frozen
# dataclass's __init__ sets each field through object.__setattr__, which costs 0.3 us a field (6 us for a
# JobView, an eighth of a status answer).
@dataclass(slots=True)
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


@dataclass(slots=True)
class Response:
    status: int
    body: Any = None  # a JSON value, or bytes sent as they are
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"
    # Added latency (a fault): the ASGI adapter waits it out on a real clock only; the core never sleeps.
    delay: float = 0.0
    # The encoded body, written once: the journal keeps these bytes and the server sends them.
    _encoded: bytes | None = field(default=None, init=False, compare=False, repr=False)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        out = self._encoded
        if out is None:
            out = encode_json(self.body)
            self._encoded = out
        return out
