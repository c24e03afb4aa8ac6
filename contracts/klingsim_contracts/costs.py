"""What a run costs, priced from the spec before any money moves.

A gateway in front of a real provider spends real money on every job it accepts. The kit therefore asks a
private, in-process klingsim of the same spec (the *shadow*: no rate limits, an unlimited account) what each
create would cost before it sends it, and keeps a running total against the run's budget. The same shadow,
used as the target of a dry run, prices a whole run rule by rule before the real one starts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx

from klingsim.core.clock import VirtualClock
from klingsim.core.http import Request
from klingsim.core.simulator import Simulator
from klingsim.spec import ProviderSpec
from klingsim_contracts.targets import NO_BODY, body_kwargs

UNLIMITED = Decimal(10**15)
SHADOW_ORIGIN = "http://shadow.klingsim.invalid"


class Shadow:
    """A klingsim of one spec that answers what the provider would: used to price requests, never to judge."""

    def __init__(self, spec: ProviderSpec) -> None:
        self.spec = spec
        # No rate limits: a burst the real target throttles must still be priced as if it were accepted.
        self.sim = Simulator([spec], VirtualClock(), seed=0, rate_limits={spec.id: None})
        self.sim.runtimes[spec.id].default_balance = UNLIMITED

    def spent(self) -> Decimal:
        """What every job the shadow accepted since the last `forget` costs."""
        return sum((job.cost for job in self.sim.engine.jobs()), Decimal(0))

    def answer(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> Any:
        req = Request(
            method, path, dict(query), {k.lower(): v for k, v in headers.items()}, body, SHADOW_ORIGIN
        )
        return self.sim.handle(self.spec.id, req)

    def price(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> Decimal:
        """What the provider would charge for this request (0 when it would refuse it)."""
        before = self.spent()
        self.answer(method, path, query, headers, body)
        price = self.spent() - before
        self.forget()  # no job stays open: a per-account job limit must not refuse the next one
        return price

    def forget(self) -> None:
        """Drop the shadow's jobs between rules: it only prices, no history is worth keeping."""
        self.sim.reset()
        self.sim.runtimes[self.spec.id].default_balance = UNLIMITED


def encoded(body: Any, raw: bytes | None) -> bytes:
    if raw is not None:
        return raw
    return b"" if body is None else json.dumps(body).encode()


class ShadowTarget:
    """The shadow as a kit target (an httpx mock transport over `Simulator.handle`): the dry run's target."""

    def __init__(self, shadow: Shadow) -> None:
        self.shadow = shadow
        self.base_url = SHADOW_ORIGIN
        self.api_key: str | None = None
        self._client = httpx.Client(transport=httpx.MockTransport(self._handle), base_url=SHADOW_ORIGIN)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        query = dict(request.url.params)
        headers = dict(request.headers)
        sim = self.shadow.sim
        if url.path.startswith("/_klingsim/files/"):
            req = Request(request.method, url.path, query, headers, request.content, SHADOW_ORIGIN)
            response = sim.download(req)
        else:
            response = self.shadow.answer(request.method, url.path, query, headers, request.content)
        return httpx.Response(
            response.status,
            headers=[*response.headers, ("content-type", response.content_type)],
            content=response.encoded(),
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = NO_BODY,
        content: bytes | None = None,
    ) -> httpx.Response:
        return self._client.request(
            method,
            path,
            headers=dict(headers or {}),
            params=dict(params or {}),
            **body_kwargs(json, content),
        )

    def fetch(self, url: str, method: str = "GET") -> httpx.Response:
        return self._client.request(method, url)

    def close(self) -> None:
        self._client.close()
