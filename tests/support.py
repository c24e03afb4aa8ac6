"""A synchronous test client over the in-process ASGI app, and simulator builders for tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import httpx

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.server.app import KlingsimApp
from klingsim.spec import ProviderSpec


class SimClient:
    """Requests through the real ASGI adapter (not the core directly), on a virtual clock."""

    def __init__(self, specs: Iterable[ProviderSpec] | None = None, *, seed: int = 0, **options: Any) -> None:
        if specs is None:
            from klingsim.providers import ALL

            specs = ALL
        self.clock = VirtualClock()
        self.sim = Simulator(specs, self.clock, seed=seed, secret=b"test-secret", **options)
        self.app = KlingsimApp(self.sim)
        self.base_url = "http://testserver"

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
                response = await client.request(method, url, **kwargs)
                await response.aread()
                return response

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def advance(self, seconds: float) -> None:
        self.sim.advance(seconds)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def auth_headers(spec: ProviderSpec, key: str) -> dict[str, str]:
    """The provider's own credential headers for `key` (Bearer, fal's `Key`, a freshly minted Kling JWT)."""
    from klingsim.core.auth import credential_headers

    return credential_headers(spec.auth, key)
