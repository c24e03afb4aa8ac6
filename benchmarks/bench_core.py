"""CPU cost of the in-process engine, through the whole ASGI app but without HTTP (issue 14).

Each request goes through `KlingsimApp` with a hand-built ASGI scope: routing, auth, validation, pricing,
ledger, lifecycle, journal and faults all run; only the HTTP server is left out. Creates send one body, as
a load test does (its evaluation is then reused: core.evaluated); one more figure sends a different body each
time. Times are CPU time
(`time.process_time`) over many requests, the median of several runs, so other work on a shared machine
changes them little. Also printed: the create → complete → status round trip called directly, and the memory
a held job costs (tracemalloc and RSS).

Usage: python benchmarks/bench_core.py [--requests N] [--runs N] [--jobs N]
Targets (issue 14): create <= 90 us, status <= 50 us, round trip <= 0.5 ms, <= 1 KiB per created job,
balance answers not O(ledger entries).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any

from klingsim.core.clock import VirtualClock
from klingsim.core.http import Request
from klingsim.core.journal import DEFAULT_SIZE
from klingsim.core.simulator import Simulator
from klingsim.providers import ALL
from klingsim.server.app import KlingsimApp

KEY = "k3a_bench_0123456789abcdef"
BODY = json.dumps(
    {"type": "pro-text-to-video", "prompt": "A cinematic shot of mountains at sunrise", "duration": 5}
).encode()
CREATE = "/kling3api/api/generate"
STATUS = "/kling3api/api/status"


def _scope(method: str, path: str, query: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {KEY}".encode()),
            (b"content-type", b"application/json"),
            (b"user-agent", b"bench/1.0"),
        ],
        "scheme": "http",
        "server": ("bench", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }


Call = Callable[[str, str, bytes, bytes], Awaitable[bytes]]


def _caller(app: KlingsimApp) -> Call:
    async def call(method: str, path: str, query: bytes = b"", body: bytes = b"") -> bytes:
        message = {"type": "http.request", "body": body, "more_body": False}

        async def receive() -> dict[str, Any]:
            return message

        sent: list[bytes] = []

        async def send(msg: MutableMapping[str, Any]) -> None:
            if msg["type"] == "http.response.body":
                sent.append(msg["body"])

        await app(_scope(method, path, query), receive, send)
        return sent[-1]

    return call


def _new() -> tuple[Simulator, Call]:
    sim = Simulator(ALL, VirtualClock(), seed=0)
    sim.set_balance("kling3api", KEY, 10**15)  # type: ignore[arg-type]
    return sim, _caller(KlingsimApp(sim))


def _distinct_bodies(requests: int) -> list[bytes]:
    """Create bodies that differ in their prompt: none reuses another's evaluation (core.evaluated)."""
    body = json.loads(BODY)
    return [json.dumps({**body, "prompt": f"{body['prompt']} #{n}"}).encode() for n in range(requests)]


async def _cpu_per_request(requests: int, runs: int, distinct: bool = False) -> tuple[float, float]:
    """Median CPU per create and per status; `distinct`: every create body differs from the others."""
    creates: list[float] = []
    statuses: list[float] = []
    for _ in range(runs):
        _, call = _new()
        for _ in range(200):  # warm-up: caches, first imports
            await call("POST", CREATE, b"", BODY)
        bodies = _distinct_bodies(requests) if distinct else [BODY] * requests
        ids = []
        start = time.process_time()
        for body in bodies:
            ids.append(json.loads(await call("POST", CREATE, b"", body))["data"]["task_id"])
        creates.append((time.process_time() - start) / requests * 1e6)
        queries = [f"task_id={i}".encode() for i in ids]
        start = time.process_time()
        for query in queries:
            await call("GET", STATUS, query, b"")
        statuses.append((time.process_time() - start) / requests * 1e6)
    return statistics.median(creates), statistics.median(statuses)


async def _round_trip(rounds: int) -> float:
    """Create, let the virtual clock run the job to its end, read its status: median ms of one round."""
    sim, call = _new()
    samples = []
    for n in range(rounds + 100):
        start = time.process_time()
        task_id = json.loads(await call("POST", CREATE, b"", BODY))["data"]["task_id"]
        sim.advance(600)  # longer than any kling3api render: the job is complete
        status = json.loads(await call("GET", STATUS, f"task_id={task_id}".encode(), b""))
        if n >= 100:  # the first ones are warm-up
            samples.append((time.process_time() - start) * 1000)
        assert status["data"]["status"] == "SUCCESS", status
    return statistics.median(samples)


def _balance_us(entries: int, reads: int = 2000) -> float:
    """CPU per evolink `GET /v1/credits` (through `Simulator.handle`) with `entries` ledger entries."""
    sim = Simulator(ALL, VirtualClock(), seed=0)
    key = "sk-evo-0123456789abcdef"
    sim.set_balance("evolink", key, Decimal(10**12))
    account = sim.keys.account_of("evolink", key) or key
    for n in range(entries // 2):  # a hold and its capture per job
        sim.ledger.debit("evolink", account, f"job{n}", Decimal(7), 0.0, hold=True)
        sim.ledger.settle("evolink", f"job{n}", True, True, 0.0)
    req = Request("GET", "/v1/credits", {}, {"authorization": f"Bearer {key}"}, b"", "http://bench")
    for _ in range(100):  # warm-up
        sim.handle("evolink", req)
    start = time.process_time()
    for _ in range(reads):
        sim.handle("evolink", req)
    return (time.process_time() - start) / reads * 1e6


def _handle_only(requests: int, runs: int) -> tuple[float, float]:
    """The same requests given to `Simulator.handle` directly (the part of the cost the ASGI layer adds is
    the difference with `_cpu_per_request`)."""
    headers = {
        "host": "bench",
        "authorization": f"Bearer {KEY}",
        "content-type": "application/json",
        "user-agent": "bench/1.0",
    }
    creates: list[float] = []
    statuses: list[float] = []
    for _ in range(runs):
        sim, _ = _new()
        req = Request("POST", "/api/generate", {}, headers, BODY, "http://bench")
        for _ in range(200):
            sim.handle("kling3api", req)
        start = time.process_time()
        ids = [sim.handle("kling3api", req).body["data"]["task_id"] for _ in range(requests)]
        creates.append((time.process_time() - start) / requests * 1e6)
        polls = [Request("GET", "/api/status", {"task_id": i}, headers, b"", "http://bench") for i in ids]
        start = time.process_time()
        for poll in polls:
            sim.handle("kling3api", poll)
        statuses.append((time.process_time() - start) / requests * 1e6)
    return statistics.median(creates), statistics.median(statuses)


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def _bytes_per_job(jobs: int, journal: bool, traced: bool) -> float:
    """Memory growth per created job: tracemalloc's count, or RSS (without tracemalloc's bookkeeping)."""
    sim, call = _new()
    if not journal:
        sim.journal._size = 0  # the journal keeps its own bounded ring: measure the jobs and the ledger
    for _ in range(200):
        await call("POST", CREATE, b"", BODY)
    gc.collect()
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0] if traced else _rss()
    for _ in range(jobs):
        await call("POST", CREATE, b"", BODY)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] if traced else _rss()
    return (after - before) / jobs


def _memory(jobs: int, journal: bool, traced: bool) -> float:
    """`_bytes_per_job` in a fresh process: memory freed by earlier runs would hide growth from RSS."""
    argv = [sys.executable, __file__, "--memory", str(jobs), str(int(journal)), str(int(traced))]
    return float(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--memory", nargs=3, type=int, help=argparse.SUPPRESS)  # internal: one measure
    args = parser.parse_args()
    if args.memory:
        jobs, journal, traced = args.memory
        print(asyncio.run(_bytes_per_job(jobs, bool(journal), bool(traced))))
        return
    create_us, status_us = asyncio.run(_cpu_per_request(args.requests, args.runs))
    print(f"through KlingsimApp (no HTTP), CPU per request, median of {args.runs} runs of {args.requests}:")
    print(f"  create {create_us:7.1f} us   (target <= 90)")
    print(f"  status {status_us:7.1f} us   (target <= 50)")
    distinct_us, _ = asyncio.run(_cpu_per_request(args.requests, args.runs, distinct=True))
    print(f"  create {distinct_us:7.1f} us   with a different body each time (each evaluated)")
    create_us, status_us = _handle_only(args.requests, args.runs)
    print(f"Simulator.handle alone: create {create_us:7.1f} us, status {status_us:7.1f} us")
    trip = asyncio.run(_round_trip(args.requests // 2))
    print(f"create -> complete -> status, direct: median {trip:.3f} ms CPU   (target <= 0.5)")
    small, large = _balance_us(10), _balance_us(100_000)
    print(
        f"evolink GET /v1/credits: {small:.1f} us with 10 ledger entries, {large:.1f} us with 100,000 "
        f"(ratio {large / small:.2f}; target: about 1, not O(entries))"
    )
    print(f"memory per created job over {args.jobs} creates (target <= 1024 B):")
    for journal in (False, True):
        traced = _memory(args.jobs, journal, traced=True)
        grown = _memory(args.jobs, journal, traced=False)
        where = f"journal on (ring of {DEFAULT_SIZE})" if journal else "journal off"
        print(f"  {where:<26} tracemalloc {traced:6.0f} B   RSS {grown:6.0f} B")


if __name__ == "__main__":
    main()
