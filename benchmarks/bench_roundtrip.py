"""In-process create + status round trip through httpx.ASGITransport (target: median <= 0.7 ms), and the
create -> complete -> status round trip called on the ASGI app directly, without httpx (issue 14 target:
<= 0.5 ms; see also benchmarks/bench_core.py)."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
from bench_core import _round_trip

from klingsim.core.clock import VirtualClock
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL
from klingsim.server.app import KlingsimApp

KEY = "k3a_bench_0123456789abcdef"
BODY = {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains at sunrise", "duration": 5}


async def main(rounds: int = 3000) -> None:
    sim = Simulator(ALL, VirtualClock(), seed=0)
    sim.set_balance("kling3api", KEY, 10**12)  # type: ignore[arg-type]
    app = KlingsimApp(sim)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bench") as client:
        for _ in range(200):  # warm-up
            await client.post("/kling3api/api/generate", json=BODY, headers=headers)
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            created = await client.post("/kling3api/api/generate", json=BODY, headers=headers)
            task_id = created.json()["data"]["task_id"]
            await client.get("/kling3api/api/status", params={"task_id": task_id}, headers=headers)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    print(
        f"create+status round trip over {rounds} rounds (httpx): median {statistics.median(samples):.3f} ms, "
        f"p90 {samples[int(rounds * 0.9)]:.3f} ms, p99 {samples[int(rounds * 0.99)]:.3f} ms"
    )
    direct = await _round_trip(rounds)
    print(
        f"create -> complete -> status, ASGI app called directly: median {direct:.3f} ms CPU (target <= 0.5)"
    )


if __name__ == "__main__":
    asyncio.run(main())
