"""Near-miss hints: body fields and paths a provider does not know, with the closest name it does know.

The provider's answer stays the provider's (an ignored field, its own 404); the hint travels beside it: in the
`X-Klingsim-Hint` header, the request journal and the server's request log. `--strict-fields` turns an unknown
body field into the provider's validation error instead.

Hints found while a request is answered wait in a per-thread slot until `controls` records the request, so the
request pipeline needs only one call and every answer (even a later validation error) carries them.
"""

from __future__ import annotations

import difflib
import json
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from klingsim.spec import Endpoint, ErrorRole, Variant, Violation

if TYPE_CHECKING:
    from klingsim.core.simulator import Runtime

HEADER = "x-klingsim-hint"
MAX_HINTS = 5  # a body of a thousand typos gets five hints, not a header of megabytes
_LONGEST_NAME = 64  # names longer than this are shown cut and not compared (difflib is quadratic)


class _Pending(threading.local):
    # A class default: reading a never-set thread-local attribute through getattr(..., None) raises and
    # catches an AttributeError inside, ~1 us on every request.
    hints: list[str] | None = None


_pending = _Pending()
# Per (endpoint, variant) object: the variant is kept beside its names so a reused id() is never mistaken.
_known_fields: dict[tuple[int, int], tuple[Variant, frozenset[str]]] = {}


def _show(name: str) -> str:
    """The name quoted, ASCII only and cut: it goes into an HTTP header as it is."""
    shown = name if len(name) <= _LONGEST_NAME else name[:_LONGEST_NAME] + "..."
    return json.dumps(shown, ensure_ascii=True)


def closest(name: str, known: Iterable[str]) -> str | None:
    if len(name) > _LONGEST_NAME:
        return None
    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def _suggest(what: str, name: str, known: Iterable[str]) -> str:
    near = closest(name, known)
    text = f"unknown {what} {_show(name)}"
    return f"{text}; did you mean {_show(near)}?" if near is not None else text


def known_fields(rt: Runtime, endpoint: Endpoint, variant: Variant) -> frozenset[str]:
    """The body fields the provider reads for this variant: its params, the discriminator, the endpoint's
    query-or-body fields and the callback field."""
    key = (id(endpoint), id(variant))
    cached = _known_fields.get(key)
    if cached is not None and cached[0] is variant:
        return cached[1]
    names = {p.name for p in variant.params} | {q.name for q in endpoint.query}
    if endpoint.body is not None and endpoint.body.discriminator:
        names.add(endpoint.body.discriminator)
    if rt.spec.callbacks is not None:
        names.add(rt.spec.callbacks.field)
    found = frozenset(names)
    _known_fields[key] = (variant, found)
    return found


def check_fields(
    rt: Runtime, endpoint: Endpoint, variant: Variant, body: Mapping[str, Any], strict: bool
) -> None:
    """Note each unknown top-level field with the closest known one; with `strict`, refuse the first in the
    provider's validation error."""
    known = known_fields(rt, endpoint, variant)
    unknown = [name for name in body if name not in known]
    if not unknown:
        return
    hints = [_suggest("field", name, known) for name in unknown[:MAX_HINTS]]
    if strict:
        raise Violation(rt.spec.roles[ErrorRole.VALIDATION], hints[0], unknown[0])
    _add(hints)


def check_route(rt: Runtime, method: str, path: str) -> None:
    """Note an unknown path with the closest of the provider's routes."""
    routes = {e.path: e.method for e in rt.spec.endpoints}
    near = closest(path, routes)
    where = f"{method} {_show(path)}"
    if near is None:
        _add([f"unknown path {where} for {rt.spec.id}"])
    else:
        _add([f"unknown path {where} for {rt.spec.id}; did you mean {routes[near]} {_show(near)}?"])


def _add(hints: list[str]) -> None:
    current = _pending.hints
    _pending.hints = hints if current is None else current + hints


def note(hints: tuple[str, ...]) -> None:
    """Note hints found earlier for an identical request (core.evaluated)."""
    if hints:
        _add(list(hints))


def pending() -> tuple[str, ...]:
    """The hints noted in this thread so far, left in place."""
    return tuple(_pending.hints or ())


def take() -> list[str] | None:
    """The hints noted in this thread since the last call (None when there are none)."""
    hints = _pending.hints
    if hints is not None:
        _pending.hints = None
    return hints
