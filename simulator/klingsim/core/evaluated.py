"""Create bodies evaluated once: an identical create request skips parsing, validation and pricing.

A load test sends the same few bodies thousands of times. What a create derives from its request before it
touches an account — the variant, the validated request, the callback URL, the plan and its price, the
near-miss hints — depends only on the operation, the body bytes, the content type, the operation's query and
path parameters and two options of the simulator (`strict_fields`, `allow_http_callbacks`). So each runtime
keeps the evaluations of recent bodies, keyed by exactly those, and a repeat reuses the evaluation; auth,
rate limits, faults, the ledger, the job, its lifecycle and the journal run for every request as before.

Never kept: refusals (each is evaluated again) and requests that name media inputs (their evaluation reads
the simulator's own files: a klingsim output's probed length).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from klingsim.core.http import Request
from klingsim.spec import Endpoint, Plan, Variant

MAX_KEPT = 512  # distinct bodies per provider; the oldest is forgotten first
MAX_BODY = 16 * 1024  # larger bodies are evaluated every time (and never held as keys)

Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Evaluated:
    variant: Variant
    request: Mapping[str, Any]  # never changed: `_create` hands out copies
    callback_url: str | None
    plan: Plan
    price: Decimal
    hints: tuple[str, ...]  # near-miss hints the evaluation noted, noted again on each reuse


class EvaluatedCreates:
    """The evaluations of recent create bodies of one provider."""

    def __init__(self, max_kept: int = MAX_KEPT) -> None:
        self._kept: dict[Key, Evaluated] = {}
        self._max_kept = max_kept

    def __len__(self) -> int:
        return len(self._kept)

    @staticmethod
    def key(
        endpoint: Endpoint, req: Request, path_params: Mapping[str, str], strict: bool, allow_http: bool
    ) -> Key | None:
        """What the evaluation of this request depends on; None when it is not to be kept."""
        if len(req.body) > MAX_BODY or req.truncated:
            return None
        query = tuple(req.query.get(p.name) for p in endpoint.query) if endpoint.query else ()
        return (
            id(endpoint),  # endpoints live as long as their runtime, which holds this cache
            req.body,
            req.headers.get("content-type"),
            query,
            tuple(path_params.items()) if path_params else (),
            strict,
            allow_http,
        )

    def get(self, key: Key | None) -> Evaluated | None:
        return None if key is None else self._kept.get(key)

    def keep(self, key: Key | None, evaluated: Evaluated) -> None:
        if key is None or self._max_kept <= 0:
            return
        if len(self._kept) >= self._max_kept:
            del self._kept[next(iter(self._kept))]
        self._kept[key] = evaluated
