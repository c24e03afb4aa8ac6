"""Values checked where they enter the simulator, so nothing stored can break an answer later.

Everything a client sends may end up in a job, the journal, a URL or the clock, and is written out again
as JSON, as text, as a timestamp. A value that parses but cannot be written back (a lone UTF-16 surrogate
such as `"\\ud800"`, `NaN`, a float that overflowed to infinity, nesting deeper than any provider body, a
time past the year 9999) would turn every later answer that shows it into a 500. So they are refused here,
on the way in, with the provider's own error (`EdgeError.malformed` tells which one: the body is not
usable JSON, or a value in it is out of range):

- JSON: no `NaN`/`Infinity` literals (not JSON, RFC 8259 §6), floats finite, strings and keys valid
  Unicode text (no lone surrogates), nesting at most `MAX_DEPTH` levels. *Inferred*: the provider pages
  document none of these limits; the simulator refuses what it could not answer about faithfully.
- Times: the virtual clock and output URL expiries stay within `MAX_TIME` (year 9000, well inside what
  timestamps can show, with room for queue, render and URL lifetimes after it).
- Balances: finite, 0 to `MAX_BALANCE`, at most `MAX_BALANCE_DECIMALS` decimals.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from klingsim.core.clock import MAX_TIME

MAX_DEPTH = 32
MAX_BALANCE = Decimal(10) ** 15
MAX_BALANCE_DECIMALS = 12
MAX_EXPIRES_DIGITS = 12  # expiries are whole seconds below MAX_TIME: at most 12 digits

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_PAIR = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_LONE_SURROGATE = "strings must be valid Unicode text (a lone surrogate \\ud800-\\udfff)"


class EdgeError(ValueError):
    """A value refused at the edge; `malformed` when the body is not usable JSON at all."""

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.malformed = malformed


def _refuse_constant(name: str) -> Any:
    raise EdgeError(f"{name} is not a JSON number", malformed=True)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise EdgeError(f"the number {text[:40]} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw`, or EdgeError: not JSON (malformed), too deep (malformed), or a value that
    can't be written back (lone surrogate, a number beyond a float's range)."""
    try:
        # What json.loads does with bytes, with one decoder made once instead of one per call.
        encoding = json.detect_encoding(raw)
        value = _DECODER.decode(raw.decode(encoding, "surrogatepass"))
    except EdgeError:
        raise
    except RecursionError:
        raise EdgeError(f"JSON nesting is deeper than {MAX_DEPTH} levels", malformed=True) from None
    except ValueError:
        raise EdgeError("Request body is not valid JSON", malformed=True) from None
    if encoding != "utf-8":
        # json also reads UTF-16 and -32, which can carry lone surrogates as they are: walk the value.
        check_value(value)
        return value
    # UTF-8 text that parsed is checked on its bytes, at C speed, however many values it holds: invalid
    # UTF-8 already failed, so a lone surrogate can only be a \uD800-\uDFFF escape without its partner.
    unescaped = raw.replace(b"\\\\", b"")  # an escaped backslash starts no escape
    escapes = _SURROGATE_ESCAPE.search(unescaped) is not None
    if escapes and _SURROGATE_ESCAPE.search(_SURROGATE_PAIR.sub(b"", unescaped)) is not None:
        raise EdgeError(_LONE_SURROGATE)
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth_exceeds(unescaped):
        raise EdgeError(f"JSON nesting is deeper than {MAX_DEPTH} levels", malformed=True)
    return value


def _depth_exceeds(unescaped: bytes) -> bool:
    """True when valid JSON text nests deeper than MAX_DEPTH: strip strings and everything but brackets,
    then remove the innermost pairs one level per pass."""
    brackets = _STRING.sub(b"", unescaped).translate(None, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        brackets = _INNERMOST.sub(b"", brackets)
        if not brackets:
            return False
    return True


def check_value(value: Any) -> None:
    """EdgeError unless every string is text, every float finite and the nesting at most MAX_DEPTH."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_text(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise EdgeError("numbers must be finite")
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise EdgeError(f"JSON nesting is deeper than {MAX_DEPTH} levels", malformed=True)
            if isinstance(item, dict):
                for key, inner in item.items():
                    check_text(key)
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)


def check_text(text: str) -> None:
    """EdgeError when `text` holds a lone surrogate (it can't be encoded as UTF-8)."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise EdgeError(_LONE_SURROGATE) from None


def parse_expires(raw: str) -> int | None:
    """An output URL's `expires`: ASCII digits, at most MAX_EXPIRES_DIGITS of them; None otherwise."""
    if not raw or len(raw) > MAX_EXPIRES_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def advance_problem(now: float, seconds: float) -> str | None:
    """Why the virtual clock may not move `seconds` from `now` (None: it may)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "seconds must be a finite number of at least 0"
    if now + seconds > MAX_TIME:
        return f"seconds must be at most {math.floor(MAX_TIME - now)}: the clock stops before the year 9000"
    return None


def balance_problem(amount: Decimal) -> str | None:
    """Why `amount` can't be a balance (None: it can)."""
    try:
        if not amount.is_finite() or amount < 0 or amount > MAX_BALANCE:
            return f"balance must be a finite number from 0 to {MAX_BALANCE:f}"
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_BALANCE_DECIMALS:
            return f"balance must have at most {MAX_BALANCE_DECIMALS} decimals"
    except InvalidOperation:
        return "balance must be a number"
    return None
