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
from operator import attrgetter
from typing import Any, TypeVar

from klingsim.spec import OutputPlan, Plan, PriceTable

MAX_SHARED = 4096  # distinct values kept per table; later ones are simply not shared
MAX_INTERNED_TEXT = 64  # longer strings are prompts and URLs: seldom repeated, not worth a lookup

T = TypeVar("T")
_plans: dict[tuple[Any, ...], Plan] = {}
_amounts: dict[str, Decimal] = {}
_held_plans: dict[int, Plan] = {}  # the plans in `_plans`, by id
_prices: dict[tuple[int, int], tuple[Plan, PriceTable, Decimal]] = {}


_output_fields = attrgetter(*OutputPlan.__slots__)  # every field of an output plan, as a tuple
_ATOMS = frozenset({str, int, float, bool, type(None)})


def _typed_map(value: Any) -> Any:
    """`_typed` of a mapping, flat and quick when every value is a plain atom (the usual plan)."""
    items = value.items()
    if all(type(v) in _ATOMS for _, v in items):
        return (dict, tuple([(k, type(v), v) for k, v in items]))
    return _typed(dict(value))


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
    if _held_plans.get(id(value)) is value:  # already the shared one
        return value
    out = value.output
    try:
        output = _output_fields(out)
        key = (
            _typed_map(value.price_key),
            type(value.billed_seconds),
            value.billed_seconds,
            output,
            tuple(map(type, output)),
            value.id_family,
            _typed_map(value.extra),
            value.wait,
        )
        shared = _share(_plans, key, value)
    except TypeError:  # an unhashable value in the plan: keep it as it is
        return value
    if shared is value and _plans.get(key) is value:
        _held_plans[id(value)] = value
    return shared


def price(table: PriceTable, value: Plan) -> Decimal:
    """`table.price` of a plan, computed once per shared plan (a pure function of the two)."""
    key = (id(value), id(table))
    hit = _prices.get(key)
    if hit is not None and hit[0] is value and hit[1] is table:
        return hit[2]
    amount_due = amount(table.price(value.price_key, value.billed_seconds))
    if _held_plans.get(id(value)) is value and len(_prices) < MAX_SHARED:
        _prices[key] = (value, table, amount_due)
    return amount_due


def amount(value: Decimal) -> Decimal:
    """An equal Decimal with the same digits already held, or `value` itself."""
    return _share(_amounts, str(value), value)


def request(body: dict[str, Any]) -> dict[str, Any]:
    """The request with its keys and short string values shared (same content, same order)."""
    intern = sys.intern
    return {
        intern(k): intern(v) if type(v) is str and len(v) <= MAX_INTERNED_TEXT else v for k, v in body.items()
    }


_fields: dict[tuple[str, ...], tuple[str, ...]] = {}


def request_parts(body: dict[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The request as (field names, values): the names tuple shared by every job with the same fields in
    the same order, short strings interned. Two tuples cost about half of a dict of the same items."""
    intern = sys.intern
    names = tuple(body)
    values = [intern(v) if type(v) is str and len(v) <= MAX_INTERNED_TEXT else v for v in body.values()]
    return _share(_fields, names, names), tuple(values)
