"""Sharing equal values between held records, so a job costs memory for what is its own.

Thousands of jobs ask for the same model, duration and aspect ratio, cost the same price and get the same
plan; each would otherwise keep its own copy of those strings, Decimals and plan objects (measured: about a
kilobyte a job). Equal values are shared only when they are interchangeable everywhere: a plan or price
matches on value *and* type (`5` and `5.0`, `Decimal("400")` and `Decimal("400.0")` compare equal but are
written differently), and the tables are bounded, so a stream of distinct values never grows them.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any, TypeVar

from klingsim.spec import Plan

MAX_SHARED = 4096  # distinct values kept per table; later ones are simply not shared
MAX_INTERNED_TEXT = 64  # longer strings are prompts and URLs: seldom repeated, not worth a lookup

T = TypeVar("T")
_plans: dict[tuple[Any, ...], Plan] = {}
_amounts: dict[str, Decimal] = {}


def _typed(value: Any) -> Any:
    """A hashable key that tells apart values that compare equal but are written differently."""
    if isinstance(value, dict):
        return (dict, tuple((k, _typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value), tuple(_typed(v) for v in value))
    return (type(value), value)


def _share(table: dict[Any, T], key: Any, value: T) -> T:
    found = table.get(key)
    if found is not None:
        return found
    if len(table) < MAX_SHARED:
        table[key] = value
    return value


def plan(value: Plan) -> Plan:
    """An equal, interchangeable plan already held, or `value` itself."""
    out = value.output
    try:
        key = (
            _typed(dict(value.price_key)),
            _typed(value.billed_seconds),
            tuple(_typed(getattr(out, f)) for f in out.__slots__),
            value.id_family,
            _typed(dict(value.extra)),
            value.wait,
        )
        return _share(_plans, key, value)
    except TypeError:  # an unhashable value in the plan: keep it as it is
        return value


def amount(value: Decimal) -> Decimal:
    """An equal Decimal with the same digits already held, or `value` itself."""
    return _share(_amounts, str(value), value)


def request(body: dict[str, Any]) -> dict[str, Any]:
    """The request with its keys and short string values shared (same content, same order)."""
    intern = sys.intern
    return {
        intern(k): intern(v) if type(v) is str and len(v) <= MAX_INTERNED_TEXT else v for k, v in body.items()
    }
